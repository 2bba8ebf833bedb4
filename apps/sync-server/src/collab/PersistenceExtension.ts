import type { Extension, onLoadDocumentPayload, onStoreDocumentPayload } from "@hocuspocus/server";
import {
	encodeDocument,
	migrateDocument,
	normalizeCodeLineEndings,
	readCode,
	readLanguage,
	readTitle,
} from "@tandem/crdt-schema";
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

/** Stateless message type sent after each successful store. */
export const STORED_MESSAGE_TYPE = "stored";

/**
 * Loads session documents from their stored Yjs state and stores them (debounced by
 * Hocuspocus: at most one store per document per maxDebounce, RELIABILITY 24). After a
 * store it tells the document's clients which state is durable, so an editor shows
 * "saved" only when the server covers its local changes.
 */
export class PersistenceExtension implements Extension {
	readonly extensionName = "tandem-persistence";
	// Below the Redis extension (1000), whose onStoreDocument takes the cross-node lock first.
	priority = 50;
	private readonly store: DocumentStore;
	private readonly failures = new Map<string, number>();

	constructor(store: DocumentStore) {
		this.store = store;
	}

	async onLoadDocument({ documentName, document }: onLoadDocumentPayload): Promise<void> {
		if (!isSessionId(documentName)) throw new Error("Invalid document name");
		const state = await this.store.loadDocument(documentName);
		if (state && state.byteLength > 0) {
			Y.applyUpdate(document, state);
			migrateDocument(document);
			// Code stored before SPEC CS7 may still hold CR line breaks.
			normalizeCodeLineEndings(document);
		}
	}

	async onStoreDocument(payload: onStoreDocumentPayload): Promise<void> {
		const { documentName, document, instance } = payload;
		if (!isSessionId(documentName)) return;
		const state = encodeDocument(document);
		try {
			await this.store.storeDocument(documentName, state, {
				code: readCode(document),
				language: readLanguage(document),
				title: readTitle(document),
			});
			this.failures.delete(documentName);
		} catch (e: unknown) {
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
		const stateVector = Buffer.from(Y.encodeStateVectorFromUpdate(state)).toString("base64");
		document.broadcastStateless(JSON.stringify({ type: STORED_MESSAGE_TYPE, stateVector }));
	}
}
