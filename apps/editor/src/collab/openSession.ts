import { HocuspocusProvider } from "@hocuspocus/provider";
import * as Y from "yjs";
import { coversLocalChanges, decodeStoredMessage, type SyncState, syncState } from "./syncState.ts";
import { userColor } from "./userColor.ts";

/** The connection as people see it. */
export type ConnectionState = "connecting" | "live" | "offline";

/** Awareness `user` field: what other people's editors show for this person. */
export interface PresenceUser {
	readonly id: string;
	readonly name: string;
	readonly color: string;
	readonly colorLight: string;
}

export interface OpenSessionOptions {
	readonly sessionId: string;
	readonly token: string;
	readonly user: { readonly id: string; readonly username: string };
	/** Defaults to `/collab/{sessionId}` on this origin (ws:// or wss:// from the page). */
	readonly url?: string;
}

export interface SessionStatus {
	readonly connection: ConnectionState;
	readonly sync: SyncState;
	/** True when the server lets this person only read (viewer). */
	readonly readOnly: boolean;
	/** Why the server refused the connection, in words, or null. */
	readonly refused: string | null;
}

/** One open session document: the Y.Doc, its provider and the indicator state. */
export interface OpenSession {
	readonly doc: Y.Doc;
	readonly provider: HocuspocusProvider;
	readonly self: PresenceUser;
	/**
	 * Clients whose edits were made on this device. The page's own clientID is always in it;
	 * offline persistence adds the clients of edits it restores, so "saved" waits for them too.
	 */
	readonly localClients: Set<number>;
	status(): SessionStatus;
	/** Call `listener` now and on every status change; returns an unsubscribe function. */
	onStatus(listener: (status: SessionStatus) => void): () => void;
	destroy(): void;
}

export function collabUrl(sessionId: string, location: Pick<Location, "protocol" | "host">): string {
	const scheme = location.protocol === "https:" ? "wss" : "ws";
	return `${scheme}://${location.host}/collab/${encodeURIComponent(sessionId)}`;
}

/**
 * Create the session's Y.Doc and connect it. This is the one place a session document is
 * made: offline persistence (y-indexeddb) attaches to `doc` here, before the provider
 * connects, so local content loads first and local edits are never raced by the server.
 */
export function openSession(options: OpenSessionOptions): OpenSession {
	const doc = new Y.Doc();
	const localClients = new Set<number>([doc.clientID]);
	// Seam: attach IndexedDB persistence to `doc` here (and add restored clients to localClients).

	const self: PresenceUser = { id: options.user.id, name: options.user.username, ...userColor(options.user.id) };
	const provider = new HocuspocusProvider({
		url: options.url ?? collabUrl(options.sessionId, window.location),
		name: options.sessionId,
		document: doc,
		token: options.token,
	});
	provider.awareness?.setLocalStateField("user", self);

	// The provider connects as soon as it is made, so the first state is "connecting".
	let socket: "connecting" | "connected" | "disconnected" = "connecting";
	let connected = false;
	let lostConnection = false;
	let synced = false;
	let readOnly = false;
	let refused: string | null = null;
	let stored = new Map<number, number>();
	const listeners = new Set<(status: SessionStatus) => void>();

	const status = (): SessionStatus => {
		const covered = coversLocalChanges(stored, Y.decodeStateVector(Y.encodeStateVector(doc)), localClients);
		// Retries after a lost connection stay "offline" (each attempt would flash "connecting");
		// only the very first attempt reads "connecting", and then the indicator says "syncing".
		const down = socket === "disconnected" || (socket === "connecting" && lostConnection);
		const connection: ConnectionState = connected && synced ? "live" : down ? "offline" : "connecting";
		const sync = syncState({ connected: !down, synced: connected && synced, covered });
		return { connection, sync, readOnly, refused };
	};
	let last = "";
	const emit = () => {
		const now = status();
		const key = JSON.stringify(now);
		if (key === last) return;
		last = key;
		for (const listener of listeners) listener(now);
	};

	provider.on("status", ({ status: s }: { status: string }) => {
		socket = s === "connected" ? "connected" : s === "disconnected" ? "disconnected" : "connecting";
		connected = socket === "connected";
		if (socket === "disconnected") lostConnection = true;
		if (connected) lostConnection = false;
		if (!connected) synced = false;
		emit();
	});
	provider.on("authenticated", ({ scope }: { scope: string }) => {
		readOnly = scope === "readonly";
		refused = null;
		emit();
	});
	provider.on("authenticationFailed", ({ reason }: { reason: string }) => {
		refused = reason || "The server refused the connection";
		emit();
	});
	provider.on("synced", ({ state }: { state: boolean }) => {
		synced = state;
		emit();
	});
	provider.on("stateless", ({ payload }: { payload: string }) => {
		const vector = decodeStoredMessage(payload);
		if (vector) {
			stored = vector;
			emit();
		}
	});
	const onUpdate = () => emit();
	doc.on("update", onUpdate);

	return {
		doc,
		provider,
		self,
		localClients,
		status,
		onStatus(listener) {
			listeners.add(listener);
			listener(status());
			return () => listeners.delete(listener);
		},
		destroy() {
			listeners.clear();
			doc.off("update", onUpdate);
			provider.destroy();
			doc.destroy();
		},
	};
}
