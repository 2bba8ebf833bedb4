import { dropForeignRoots, readCode, readLanguage, readTitle } from "@tandem/crdt-schema";
import { and, asc, desc, eq, inArray, lt, not } from "drizzle-orm";
import * as Y from "yjs";
import type { Db } from "../db/database.ts";
import { documents, documentUpdates, sessionEvents, sessions } from "../db/schema.ts";
import { type CompactionResult, type DocumentStore, type DocumentSummary, PersistenceError } from "./DocumentStore.ts";

/**
 * A load that finds more pending log rows than this compacts the document in the background, so
 * the next load reads one snapshot again (a node that died before compacting leaves such a log).
 */
export const COMPACT_ON_LOAD_ROWS = 200;
/**
 * Compacted rows kept per session as edit history: at one store per 2 s of typing (the default
 * PERSIST_DEBOUNCE_MS) about 3 hours of activity. Older ones are deleted at compaction.
 */
export const HISTORY_ROWS_PER_SESSION = 5000;
/**
 * History events (joins, leaves, language switches, restores: SPEC CS11) kept per session; older
 * ones are deleted at compaction. A one-hour interview records a few dozen; the bound only stops a
 * reconnect storm from growing the table without end.
 */
export const HISTORY_EVENTS_PER_SESSION = 5000;
/** Rows folded per compaction, so one compaction's memory stays bounded. */
const COMPACT_BATCH_ROWS = 2000;

/** Options of drizzleDocumentStore. */
export interface DocumentStoreOptions {
	/** Log rows kept per session as history; defaults to HISTORY_ROWS_PER_SESSION (tests use fewer). */
	readonly historyRowsPerSession?: number;
}

/** DocumentStore over drizzle: the same code for PGlite and postgres.js. */
export function drizzleDocumentStore(db: Db, options: DocumentStoreOptions = {}): DocumentStore {
	const historyRows = options.historyRowsPerSession ?? HISTORY_ROWS_PER_SESSION;
	const compacting = new Map<string, Promise<CompactionResult>>();

	async function compact(id: string): Promise<CompactionResult> {
		try {
			return await db.transaction(async (tx) => {
				// The snapshot row's lock serialises compactions of one document across nodes.
				const rows = await tx
					.select({ state: documents.state })
					.from(documents)
					.where(eq(documents.sessionId, id))
					.for("update");
				const pending = await tx
					.select({ id: documentUpdates.id, update: documentUpdates.update })
					.from(documentUpdates)
					.where(and(eq(documentUpdates.sessionId, id), not(documentUpdates.compacted)))
					.orderBy(asc(documentUpdates.id))
					.limit(COMPACT_BATCH_ROWS);
				if (pending.length === 0) return { merged: 0, pruned: 0 };
				const doc = new Y.Doc();
				try {
					const stored = rows[0]?.state;
					if (stored && stored.byteLength > 0) Y.applyUpdate(doc, dropForeignRoots(stored));
					for (const row of pending) Y.applyUpdate(doc, row.update);
					const state = Y.encodeStateAsUpdate(doc);
					const now = new Date();
					await tx
						.insert(documents)
						.values({ sessionId: id, state, updatedAt: now })
						.onConflictDoUpdate({ target: documents.sessionId, set: { state, updatedAt: now } });
					await tx
						.update(documentUpdates)
						.set({ compacted: true })
						.where(
							inArray(
								documentUpdates.id,
								pending.map((r) => r.id),
							),
						);
					await tx
						.update(sessions)
						.set({ code: readCode(doc), language: readLanguage(doc), title: readTitle(doc) })
						.where(eq(sessions.id, id));
				} finally {
					doc.destroy();
				}
				const keep = await tx
					.select({ id: documentUpdates.id })
					.from(documentUpdates)
					.where(eq(documentUpdates.sessionId, id))
					.orderBy(desc(documentUpdates.id))
					.offset(historyRows)
					.limit(1);
				let pruned = 0;
				const oldestKept = keep[0]?.id;
				if (oldestKept !== undefined) {
					// Pruned rows are folded into the history base first (SPEC CS12), so every kept point rebuilds.
					const old = await tx
						.select({ update: documentUpdates.update })
						.from(documentUpdates)
						.where(
							and(eq(documentUpdates.sessionId, id), documentUpdates.compacted, lt(documentUpdates.id, oldestKept + 1)),
						)
						.orderBy(asc(documentUpdates.id));
					const base = await tx
						.select({ historyBase: documents.historyBase })
						.from(documents)
						.where(eq(documents.sessionId, id));
					const parts = [base[0]?.historyBase, ...old.map((r) => r.update)].filter(
						(u): u is Uint8Array => u != null && u.byteLength > 0,
					);
					if (parts.length > 0) {
						await tx
							.update(documents)
							.set({ historyBase: Y.mergeUpdates(parts) })
							.where(eq(documents.sessionId, id));
					}
					const gone = await tx
						.delete(documentUpdates)
						.where(
							and(eq(documentUpdates.sessionId, id), documentUpdates.compacted, lt(documentUpdates.id, oldestKept + 1)),
						)
						.returning({ id: documentUpdates.id });
					pruned = gone.length;
				}
				const lastEvent = await tx
					.select({ id: sessionEvents.id })
					.from(sessionEvents)
					.where(eq(sessionEvents.sessionId, id))
					.orderBy(desc(sessionEvents.id))
					.offset(HISTORY_EVENTS_PER_SESSION)
					.limit(1);
				const oldestEvent = lastEvent[0]?.id;
				if (oldestEvent !== undefined) {
					await tx
						.delete(sessionEvents)
						.where(and(eq(sessionEvents.sessionId, id), lt(sessionEvents.id, oldestEvent + 1)));
				}
				return { merged: pending.length, pruned };
			});
		} catch (e: unknown) {
			throw new PersistenceError("store_failed", `Could not compact document ${id}`, e);
		}
	}

	return {
		async loadDocument(id: string): Promise<Uint8Array | null> {
			let snapshot: Uint8Array | undefined;
			let log: Uint8Array[];
			try {
				// One snapshot of the database for both reads: under READ COMMITTED a compaction committing
				// between them would move rows into a snapshot this load had already read, and lose them here.
				[snapshot, log] = await db.transaction(
					async (tx) => {
						const rows = await tx.select({ state: documents.state }).from(documents).where(eq(documents.sessionId, id));
						const pending = await tx
							.select({ update: documentUpdates.update })
							.from(documentUpdates)
							.where(and(eq(documentUpdates.sessionId, id), not(documentUpdates.compacted)))
							.orderBy(asc(documentUpdates.id));
						return [rows[0]?.state, pending.map((r) => r.update)] as const;
					},
					{ isolationLevel: "repeatable read", accessMode: "read only" },
				);
			} catch (e: unknown) {
				throw new PersistenceError("load_failed", `Could not load document ${id}`, e);
			}
			if (log.length >= COMPACT_ON_LOAD_ROWS && !compacting.has(id)) {
				const running = compact(id)
					.catch((e: unknown) => {
						console.error(JSON.stringify({ level: "warn", msg: "compaction failed", id, err: String(e) }));
						return { merged: 0, pruned: 0 };
					})
					.finally(() => compacting.delete(id));
				compacting.set(id, running);
			}
			if (log.length === 0 && !snapshot) return null;
			const parts = snapshot && snapshot.byteLength > 0 ? [snapshot, ...log] : log;
			const state = parts.length === 1 ? (parts[0] as Uint8Array) : Y.mergeUpdates(parts);
			// A state stored before roots were checked may hold thousands of foreign roots (RELIABILITY 43).
			return dropForeignRoots(state);
		},

		async storeDocument(id: string, update: Uint8Array, summary: Partial<DocumentSummary>): Promise<void> {
			try {
				await db.transaction(async (tx) => {
					await tx.insert(documentUpdates).values({ sessionId: id, update });
					await tx
						.update(sessions)
						.set({ ...summary, updatedAt: new Date() })
						.where(eq(sessions.id, id));
				});
			} catch (e: unknown) {
				throw new PersistenceError("store_failed", `Could not store document ${id}`, e);
			}
		},

		compactDocument(id: string): Promise<CompactionResult> {
			const running = compacting.get(id);
			if (running) return running.then(() => compact(id));
			const next = compact(id).finally(() => compacting.delete(id));
			compacting.set(id, next);
			return next;
		},
	};
}
