import { IndexeddbPersistence } from "y-indexeddb";
import * as Y from "yjs";
import { fromBase64, toBase64 } from "../collab/base64.ts";

/** Custom-store key under which the ids of clients that edited on this device are kept. */
const LOCAL_CLIENTS_KEY = "localClients";

/** localStorage key holding edits whose IndexedDB write had not committed when the page went away. */
export function unsavedEditsKey(databaseName: string): string {
	return `${databaseName}:unsaved`;
}

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
	const name = localDocumentName(userId, sessionId);
	const persistence = new IndexeddbPersistence(name, doc);
	const rescue = guardUncommittedEdits(doc, persistence, unsavedEditsKey(name));
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
		destroy: () => {
			rescue.stop();
			return persistence.destroy();
		},
	};
}

/** How long local updates gather before one read transaction confirms they are written. */
const CONFIRM_DELAY_MS = 50;

/**
 * An IndexedDB write still in flight when the page is reloaded or closed can be aborted, and with the
 * network gone the edit would be nowhere. Every local update is kept until IndexedDB has committed it;
 * on `pagehide` the ones still pending go to localStorage (synchronous), and the next visit applies
 * them (a Yjs update applies idempotently, so a write that did commit after all costs nothing).
 */
function guardUncommittedEdits(doc: Y.Doc, persistence: IndexeddbPersistence, key: string): { stop(): void } {
	const pending = new Map<number, Uint8Array>();
	let seq = 0;
	const confirm = (upTo: number) => {
		const db = persistence.db;
		if (!db) return; // Before the database opens, y-indexeddb stores the whole state on open.
		try {
			// y-indexeddb's read-write transaction for these updates was created before this one on the same
			// store, so this one completes only after those committed.
			const tx = db.transaction(["updates"], "readonly");
			tx.objectStore("updates").count();
			tx.oncomplete = () => {
				for (const id of pending.keys()) if (id <= upTo) pending.delete(id);
			};
		} catch {
			// Closing database: the pending edits stay for pagehide.
		}
	};
	// One confirming transaction per burst of updates (typing), not one per keystroke.
	let confirmTimer: ReturnType<typeof setTimeout> | undefined;
	const onUpdate = (update: Uint8Array, origin: unknown) => {
		if (origin === persistence) return;
		pending.set(++seq, update);
		confirmTimer ??= setTimeout(() => {
			confirmTimer = undefined;
			confirm(seq);
		}, CONFIRM_DELAY_MS);
	};
	const onPageHide = () => {
		if (pending.size === 0) return;
		try {
			localStorage.setItem(key, toBase64(Y.mergeUpdates([...pending.values()])));
		} catch {
			// Storage full or unavailable: nothing more can be done synchronously.
		}
	};
	doc.on("update", onUpdate);
	addEventListener("pagehide", onPageHide);
	void persistence.whenSynced.then(() => {
		confirm(seq);
		let saved: string | null = null;
		try {
			saved = localStorage.getItem(key);
		} catch {
			return;
		}
		if (saved === null) return;
		try {
			Y.applyUpdate(doc, fromBase64(saved), "tandem:rescued-edits");
		} catch {
			// A damaged copy: the document is unchanged.
		}
		// Now pending again until IndexedDB commits it (pagehide saves it anew if not).
		localStorage.removeItem(key);
	});
	return {
		stop() {
			// The page stays: IndexedDB finishes the writes in flight (closing waits for them).
			doc.off("update", onUpdate);
			removeEventListener("pagehide", onPageHide);
			clearTimeout(confirmTimer);
		},
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
