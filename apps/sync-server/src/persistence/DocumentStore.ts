/** Plain-text columns kept on the session row at each store, for listings. */
export interface DocumentSummary {
	readonly code: string;
	readonly language: string;
	readonly title: string;
}

/**
 * Where session documents live between loads: Yjs binary state only (SPEC CS6),
 * never rebuilt from text.
 */
export interface DocumentStore {
	/** The stored state, or null when the document was never stored. */
	loadDocument(id: string): Promise<Uint8Array | null>;
	/** Replace the stored state and refresh the session row's plain columns. */
	storeDocument(id: string, state: Uint8Array, summary: DocumentSummary): Promise<void>;
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
