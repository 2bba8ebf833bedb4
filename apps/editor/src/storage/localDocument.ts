import { IndexeddbPersistence } from "y-indexeddb";
import type * as Y from "yjs";

/** Custom-store key under which the ids of clients that edited on this device are kept. */
const LOCAL_CLIENTS_KEY = "localClients";

/** A session document kept on this device (IndexedDB through y-indexeddb). */
export interface LocalDocument {
	/** Resolves once the stored updates are applied to the doc. */
	readonly whenLoaded: Promise<void>;
	/**
	 * Client ids whose edits were made on this device in earlier visits (the current client
	 * is recorded too), so "saved" can wait until the server has stored them.
	 */
	readonly whenClientsLoaded: Promise<number[]>;
	destroy(): Promise<void>;
}

/**
 * The IndexedDB database name of a session on this device. The user id is part of it so
 * two people sharing a browser never push each other's offline edits.
 */
export function localDocumentName(userId: string, sessionId: string): string {
	return `tandem:${userId}:${sessionId}`;
}

function clientList(value: unknown): number[] {
	try {
		const list: unknown = typeof value === "string" ? JSON.parse(value) : null;
		return Array.isArray(list) ? list.filter((v): v is number => Number.isSafeInteger(v)) : [];
	} catch {
		return [];
	}
}

/**
 * Keep `doc` in IndexedDB under the session's name: stored updates load into it and every
 * update is written. Attach before any network provider so local content comes first.
 */
export function attachLocalDocument(doc: Y.Doc, userId: string, sessionId: string): LocalDocument {
	const persistence = new IndexeddbPersistence(localDocumentName(userId, sessionId), doc);
	// whenSynced never settles when IndexedDB cannot open (private mode, blocked): fail instead.
	const opened = (persistence as unknown as { _db: Promise<unknown> })._db;
	const whenLoaded = new Promise<void>((resolve, reject) => {
		persistence.whenSynced.then(() => resolve(), reject);
		opened.catch(reject);
	});
	const whenClientsLoaded = (async () => {
		const earlier = clientList(await persistence.get(LOCAL_CLIENTS_KEY));
		if (!earlier.includes(doc.clientID))
			await persistence.set(LOCAL_CLIENTS_KEY, JSON.stringify([...earlier, doc.clientID]));
		return earlier;
	})();
	return {
		whenLoaded,
		whenClientsLoaded,
		destroy: () => persistence.destroy(),
	};
}

/**
 * Write a new document to this device: `fill` runs on an empty doc whose updates go to
 * IndexedDB, and the returned promise resolves once they are written (closing the database
 * waits for its pending transactions).
 */
export async function writeLocalDocument(
	doc: Y.Doc,
	userId: string,
	sessionId: string,
	fill: (doc: Y.Doc) => void,
): Promise<void> {
	const local = attachLocalDocument(doc, userId, sessionId);
	await local.whenLoaded;
	await local.whenClientsLoaded;
	fill(doc);
	await local.destroy();
}
