import { dropForeignRoots, readCode, readLanguage, readTitle } from "@tandem/crdt-schema";
import { eq } from "drizzle-orm";
import * as Y from "yjs";
import type { Db } from "../db/database.ts";
import { documents, sessions } from "../db/schema.ts";
import { type DocumentStore, type DocumentSummary, PersistenceError } from "./DocumentStore.ts";

/**
 * Merge a new state into the stored one. Several nodes store the same document; a node
 * may hold edits the other has not received yet, so a store never overwrites what
 * another node stored: both states are Yjs updates of one document and merging them
 * is exactly the CRDT merge (binary only, SPEC CS6).
 */
function mergeStates(stored: Uint8Array, incoming: Uint8Array): { state: Uint8Array; doc: Y.Doc } {
	const doc = new Y.Doc();
	Y.applyUpdate(doc, stored);
	Y.applyUpdate(doc, incoming);
	return { state: Y.encodeStateAsUpdate(doc), doc };
}

/** DocumentStore over drizzle: the same code for PGlite and postgres.js. */
export function drizzleDocumentStore(db: Db): DocumentStore {
	return {
		async loadDocument(id: string): Promise<Uint8Array | null> {
			try {
				const rows = await db.select({ state: documents.state }).from(documents).where(eq(documents.sessionId, id));
				const state = rows[0]?.state;
				// A state stored before roots were checked may hold thousands of foreign roots (RELIABILITY 43).
				return state ? dropForeignRoots(state) : null;
			} catch (e: unknown) {
				throw new PersistenceError("load_failed", `Could not load document ${id}`, e);
			}
		},
		async storeDocument(id: string, state: Uint8Array, summary: DocumentSummary): Promise<void> {
			try {
				const now = new Date();
				await db.transaction(async (tx) => {
					const rows = await tx
						.select({ state: documents.state })
						.from(documents)
						.where(eq(documents.sessionId, id))
						.for("update");
					let toStore = state;
					let plain = summary;
					const stored = rows[0]?.state;
					if (stored && stored.byteLength > 0) {
						const merged = mergeStates(dropForeignRoots(stored), state);
						toStore = merged.state;
						plain = { code: readCode(merged.doc), language: readLanguage(merged.doc), title: readTitle(merged.doc) };
						merged.doc.destroy();
					}
					await tx
						.insert(documents)
						.values({ sessionId: id, state: toStore, updatedAt: now })
						.onConflictDoUpdate({ target: documents.sessionId, set: { state: toStore, updatedAt: now } });
					await tx
						.update(sessions)
						.set({ code: plain.code, language: plain.language, title: plain.title, updatedAt: now })
						.where(eq(sessions.id, id));
				});
			} catch (e: unknown) {
				throw new PersistenceError("store_failed", `Could not store document ${id}`, e);
			}
		},
	};
}
