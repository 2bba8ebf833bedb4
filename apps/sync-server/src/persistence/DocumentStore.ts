/** Plain-text columns kept on the session row, for listings. */
export interface DocumentSummary {
	readonly code: string;
	readonly language: string;
	readonly title: string;
}

/** What a compaction did: rows merged into the snapshot and history rows pruned. */
export interface CompactionResult {
	readonly merged: number;
	readonly pruned: number;
}

/**
 * Where session documents live between loads: Yjs binary state only (SPEC CS6), never rebuilt
 * from text. A document is a snapshot (`documents.state`) plus an append-only log of updates
 * (`document_updates`, decision 053): a store appends, O(update); compaction folds the log into
 * the snapshot off the hot path. Every update is idempotent, so appending the same change twice
 * (two nodes, a retry) only costs space until the next compaction.
 */
export interface DocumentStore {
	/** The stored state (snapshot merged with the pending log), or null when never stored. */
	loadDocument(id: string): Promise<Uint8Array | null>;
	/**
	 * Append a Yjs update (a diff, or a whole state: merging is idempotent) to the log, and refresh
	 * the session row's language and title (and code when given). Throws PersistenceError.
	 */
	storeDocument(id: string, update: Uint8Array, summary: Partial<DocumentSummary>): Promise<void>;
	/** Fold the pending log into the snapshot and refresh the session row. Throws PersistenceError. */
	compactDocument(id: string): Promise<CompactionResult>;
}

/** A store failure, with the driver error as cause. */
export class PersistenceError extends Error {
	override name = "PersistenceError";
	readonly code: "load_failed" | "store_failed";
	constructor(code: "load_failed" | "store_failed", message: string, cause: unknown) {
		super(message, { cause });
		this.code = code;
	}
}
