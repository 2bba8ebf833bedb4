import { eq } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { documents, sessions } from "../db/schema.ts";
import { type DocumentStore, type DocumentSummary, PersistenceError } from "./DocumentStore.ts";

/** DocumentStore over drizzle: the same code for PGlite and postgres.js. */
export function drizzleDocumentStore(db: Db): DocumentStore {
	return {
		async loadDocument(id: string): Promise<Uint8Array | null> {
			try {
				const rows = await db.select({ state: documents.state }).from(documents).where(eq(documents.sessionId, id));
				return rows[0]?.state ?? null;
			} catch (e: unknown) {
				throw new PersistenceError("load_failed", `Could not load document ${id}`, e);
			}
		},
		async storeDocument(id: string, state: Uint8Array, summary: DocumentSummary): Promise<void> {
			try {
				const now = new Date();
				await db.transaction(async (tx) => {
					await tx
						.insert(documents)
						.values({ sessionId: id, state, updatedAt: now })
						.onConflictDoUpdate({ target: documents.sessionId, set: { state, updatedAt: now } });
					await tx
						.update(sessions)
						.set({ code: summary.code, language: summary.language, title: summary.title, updatedAt: now })
						.where(eq(sessions.id, id));
				});
			} catch (e: unknown) {
				throw new PersistenceError("store_failed", `Could not store document ${id}`, e);
			}
		},
	};
}
