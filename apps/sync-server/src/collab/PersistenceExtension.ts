import type {
	beforeUnloadDocumentPayload,
	Extension,
	onLoadDocumentPayload,
	onStoreDocumentPayload,
} from "@hocuspocus/server";
import { migrateDocument, normalizeCodeLineEndings, readLanguage, readTitle } from "@tandem/crdt-schema";
import * as Y from "yjs";
import type { DocumentStore } from "../persistence/DocumentStore.ts";
import { isSessionId } from "../sessions/sessionIds.ts";

const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 15_000;

function isForeignKeyViolation(error: unknown): boolean {
	for (
		let e: unknown = error, depth = 0;
		e && typeof e === "object" && depth < 5;
		e = (e as { cause?: unknown }).cause, depth++
	) {
		if ((e as { code?: unknown }).code === "23503") return true;
	}
	return false;
}

/** Origin of the stored state applied at load: already stored, so never appended again. */
const LOADED_FROM_STORE = Symbol("loaded from store");

/**
 * Appends after which a document's log is compacted in the background (decision 053): at one
 * store per 2 s of typing, about every 2 minutes; a load then reads one snapshot and at most
 * this many rows.
 */
export const COMPACT_EVERY_STORES = 64;

/** What a loaded document has not stored yet. */
interface Unstored {
	/** Updates applied since the last successful store, in order. */
	updates: Uint8Array[];
	/** Stores since the last compaction. */
	storesSinceCompaction: number;
	/** The store under way: stores of one document run one at a time, so "stored" never runs ahead. */
	storing: Promise<unknown>;
}

/** Stateless message type sent after each successful store. */
export const STORED_MESSAGE_TYPE = "stored";

/**
 * Loads session documents from their stored Yjs state and stores them (debounced by
 * Hocuspocus: at most one store per document per maxDebounce, RELIABILITY 24). A store appends
 * only the updates this node applied since its last store, however they arrived (a client, a REST
 * change, another node through Redis), so it costs O(update), not O(document) (decision 053).
 * After a store it tells the document's clients which state is durable, so an editor shows
 * "saved" only when the server covers its local changes.
 */
export class PersistenceExtension implements Extension {
	readonly extensionName = "tandem-persistence";
	// Below the Redis extension (1000), whose onStoreDocument takes the cross-node lock first.
	priority = 50;
	private readonly store: DocumentStore;
	private readonly failures = new Map<string, number>();
	private readonly unstored = new WeakMap<Y.Doc, Unstored>();
	private readonly compactions = new Set<Promise<unknown>>();

	constructor(store: DocumentStore) {
		this.store = store;
	}

	async onLoadDocument({ documentName, document }: onLoadDocumentPayload): Promise<void> {
		if (!isSessionId(documentName)) throw new Error("Invalid document name");
		// Listen before anything else can change the document, so no update escapes the log.
		const unstored: Unstored = { updates: [], storesSinceCompaction: 0, storing: Promise.resolve() };
		this.unstored.set(document, unstored);
		document.on("update", (update: Uint8Array, origin: unknown) => {
			if (origin !== LOADED_FROM_STORE) unstored.updates.push(update);
		});
		const state = await this.store.loadDocument(documentName);
		if (state && state.byteLength > 0) {
			Y.applyUpdate(document, state, LOADED_FROM_STORE);
			migrateDocument(document);
			// Code stored before SPEC CS7 may still hold CR line breaks.
			normalizeCodeLineEndings(document);
		}
	}

	async onStoreDocument(payload: onStoreDocumentPayload): Promise<void> {
		const { documentName, document, instance } = payload;
		if (!isSessionId(documentName)) return;
		const unstored = this.unstored.get(document);
		if (!unstored) return;
		const previous = unstored.storing;
		let done = () => {};
		unstored.storing = new Promise<void>((resolve) => {
			done = resolve;
		});
		try {
			await previous;
			await this.append(payload, unstored);
		} finally {
			done();
		}
	}

	private async append(payload: onStoreDocumentPayload, unstored: Unstored): Promise<void> {
		const { documentName, document, instance } = payload;
		// Everything up to here is in `taken` or stored before: this is what the store makes durable.
		const stateVector = Buffer.from(Y.encodeStateVector(document)).toString("base64");
		const taken = unstored.updates.splice(0);
		try {
			if (taken.length > 0) {
				const update = taken.length === 1 ? (taken[0] as Uint8Array) : Y.mergeUpdates(taken);
				await this.store.storeDocument(documentName, update, {
					language: readLanguage(document),
					title: readTitle(document),
				});
				unstored.storesSinceCompaction++;
			}
			this.failures.delete(documentName);
		} catch (e: unknown) {
			unstored.updates.unshift(...taken);
			if (isForeignKeyViolation(e)) {
				// The session row is gone (deleted): nothing to store into, and retrying cannot help.
				console.error(JSON.stringify({ level: "warn", msg: "document of a deleted session dropped", documentName }));
				return;
			}
			// The document stays in memory (Hocuspocus does not unload after a failed store);
			// try again with backoff even if nobody types again (RELIABILITY 34).
			const failures = (this.failures.get(documentName) ?? 0) + 1;
			this.failures.set(documentName, failures);
			const delayMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(failures - 1, 10));
			setTimeout(() => {
				if (instance.documents.get(documentName) === document) void instance.storeDocumentHooks(document, payload);
			}, delayMs).unref();
			console.error(
				JSON.stringify({
					level: "error",
					msg: "store failed; will retry",
					documentName,
					failures,
					delayMs,
					err: String((e as Error)?.cause ?? e),
				}),
			);
			throw e;
		}
		document.broadcastStateless(JSON.stringify({ type: STORED_MESSAGE_TYPE, stateVector }));
		if (unstored.storesSinceCompaction >= COMPACT_EVERY_STORES) this.compact(documentName, unstored);
	}

	async beforeUnloadDocument({ documentName, document }: beforeUnloadDocumentPayload): Promise<void> {
		const unstored = this.unstored.get(document);
		if (unstored && unstored.storesSinceCompaction > 0) this.compact(documentName, unstored);
	}

	/** Resolves when no compaction started by this node is running (shutdown waits for it). */
	async idle(): Promise<void> {
		while (this.compactions.size > 0) await Promise.allSettled([...this.compactions]);
	}

	async onDestroy(): Promise<void> {
		await this.idle();
	}

	/** Fold the document's log into its snapshot, off the store's path; a failure is retried later. */
	private compact(documentName: string, unstored: Unstored): void {
		const stores = unstored.storesSinceCompaction;
		unstored.storesSinceCompaction = 0;
		const running = this.store.compactDocument(documentName).catch((e: unknown) => {
			unstored.storesSinceCompaction += stores;
			console.error(
				JSON.stringify({ level: "warn", msg: "compaction failed; will retry", documentName, err: String(e) }),
			);
		});
		this.compactions.add(running);
		void running.finally(() => this.compactions.delete(running));
	}
}
