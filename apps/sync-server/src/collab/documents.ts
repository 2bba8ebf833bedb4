import type { Hocuspocus } from "@hocuspocus/server";
import { decodeDocument, readCode, readLanguage, readStdin, readTitle } from "@tandem/crdt-schema";
import type * as Y from "yjs";
import type { DocumentStore } from "../persistence/DocumentStore.ts";
import { isSessionId } from "../sessions/sessionIds.ts";

/** Plain view of a session document. */
export interface SessionDocumentView {
	readonly code: string;
	readonly language: string;
	readonly title: string;
	/** The shared program input (SPEC CS10). */
	readonly stdin: string;
}

/** Context of changes made by the server (REST routes), visible to onChange hooks. */
export const SERVER_CONTEXT = Object.freeze({
	user: Object.freeze({ id: "server", username: "server" }),
	server: true,
});

/**
 * Read a session document: from the live in-memory document when this node has it
 * loaded, else from its stored state. `fn` receives a Y.Doc it must not keep or change.
 */
export async function readSessionDocument<T>(
	hocuspocus: Hocuspocus,
	store: DocumentStore,
	sessionId: string,
	fn: (doc: Y.Doc) => T,
): Promise<T> {
	if (!isSessionId(sessionId)) throw new Error("Invalid session id");
	const live = hocuspocus.documents.get(sessionId);
	if (live && !live.isLoading) return fn(live);
	const doc = decodeDocument(await store.loadDocument(sessionId));
	try {
		return fn(doc);
	} finally {
		doc.destroy();
	}
}

/**
 * The session document's code, language and title (live when loaded, else stored), or
 * null when the document was never stored nor loaded (a session registered by an
 * offline client before its first sync).
 */
export async function viewSessionDocument(
	hocuspocus: Hocuspocus,
	store: DocumentStore,
	sessionId: string,
): Promise<SessionDocumentView | null> {
	if (!isSessionId(sessionId)) throw new Error("Invalid session id");
	const live = hocuspocus.documents.get(sessionId);
	const doc = live && !live.isLoading ? live : await loadStored(store, sessionId);
	if (!doc) return null;
	return { code: readCode(doc), language: readLanguage(doc), title: readTitle(doc), stdin: readStdin(doc) };
}

async function loadStored(store: DocumentStore, sessionId: string): Promise<Y.Doc | null> {
	const state = await store.loadDocument(sessionId);
	return state ? decodeDocument(state) : null;
}

/**
 * Change a session document through a Hocuspocus direct connection, so open editors
 * (and other nodes, through Redis) receive the change and it is stored like any edit.
 * Resolves after the change is applied and stored.
 */
export async function changeSessionDocument<T>(
	hocuspocus: Hocuspocus,
	sessionId: string,
	fn: (doc: Y.Doc) => T,
): Promise<T> {
	if (!isSessionId(sessionId)) throw new Error("Invalid session id");
	const connection = await hocuspocus.openDirectConnection(sessionId, { ...SERVER_CONTEXT });
	let result: T | undefined;
	try {
		await connection.transact((doc) => {
			result = fn(doc);
		});
	} finally {
		await connection.disconnect();
	}
	return result as T;
}
