import { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";
import { MAX_DOCUMENT_BYTES } from "@tandem/crdt-schema";
import * as Y from "yjs";
import { attachLocalDocument } from "../storage/localDocument.ts";
import { isPendingSession, registerPendingSession } from "../storage/pendingSessions.ts";
import { decodeAccessMessage } from "./accessMessage.ts";
import { setSessionConnectionDown } from "./connectivity.ts";
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
	/** A bearer token for the socket; without one the server reads the httpOnly cookie of the upgrade. */
	readonly token?: string;
	readonly user: { readonly id: string; readonly username: string };
	/** Defaults to `/collab/{sessionId}` on this origin (ws:// or wss:// from the page). */
	readonly url?: string;
}

export interface SessionStatus {
	readonly connection: ConnectionState;
	readonly sync: SyncState;
	/** True when the server lets this person only read (viewer). */
	readonly readOnly: boolean;
	/** True once the server has accepted this person for the session (`readOnly` then says how). */
	readonly authenticated: boolean;
	/** Why the server refused the connection, in words, or null. */
	readonly refused: string | null;
	/** True while the session was made on this device and the server does not have it yet. */
	readonly notOnServer: boolean;
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
	/**
	 * Resolves once the copy kept on this device (IndexedDB) is loaded into `doc` (or found
	 * unavailable). The provider does not wait for it: both feed the same doc in any order.
	 */
	readonly whenLocalLoaded: Promise<void>;
	status(): SessionStatus;
	/** Call `listener` now and on every status change; returns an unsubscribe function. */
	onStatus(listener: (status: SessionStatus) => void): () => void;
	destroy(): void;
}

/** How often a session made offline retries registering while the server stays unreachable. */
const REGISTER_RETRY_MS = 10_000;

/** Words for a document connection the server closed (closeEvents.ts on the server). */
export function serverCloseMessage(reason: string): string {
	if (reason === "Token revoked")
		return "you were signed out (logged out or password changed elsewhere). Log in again; your edits stay on this device.";
	if (reason === "Access revoked") return "you no longer have access to this session.";
	if (reason === "Document size limit reached")
		return `your last change would make the document larger than the session's limit (${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB), so the server did not take it. Copy anything you need, then reload the page: the editor does not retry a refused change.`;
	return `the server closed this session (${reason || "no reason given"}). Reload the page to reconnect.`;
}

export function collabUrl(sessionId: string, location: Pick<Location, "protocol" | "host">): string {
	const scheme = location.protocol === "https:" ? "wss" : "ws";
	return `${scheme}://${location.host}/collab/${encodeURIComponent(sessionId)}`;
}

/**
 * Create the session's Y.Doc and connect it. This is the one place a session document is
 * made: offline persistence (y-indexeddb) attaches to `doc` here and the provider connects at
 * the same time, so opening a session waits for neither the disk nor the network (Yjs merges
 * the two in any order). "Saved" waits until the local copy is loaded, since edits made on
 * this device in earlier visits must be covered too. A session created offline is registered
 * (POST /create-session) before the provider connects.
 */
export function openSession(options: OpenSessionOptions): OpenSession {
	const doc = new Y.Doc();
	const localClients = new Set<number>([doc.clientID]);
	const local = attachLocalDocument(doc, options.user.id, options.sessionId);
	let notOnServer = isPendingSession(options.user.id, options.sessionId);

	const self: PresenceUser = { id: options.user.id, name: options.user.username, ...userColor(options.user.id) };
	// The socket waits (autoConnect false) only for a session made offline: until the server
	// has registered it.
	const socketProvider = new HocuspocusProviderWebsocket({
		url: options.url ?? collabUrl(options.sessionId, window.location),
		autoConnect: false,
	});
	const provider = new HocuspocusProvider({
		websocketProvider: socketProvider,
		name: options.sessionId,
		document: doc,
		token: options.token ?? "",
	});
	provider.attach();
	provider.awareness?.setLocalStateField("user", self);

	// The provider connects as soon as it is made, so the first state is "connecting".
	let socket: "connecting" | "connected" | "disconnected" = "connecting";
	let connected = false;
	let lostConnection = false;
	let synced = false;
	let readOnly = false;
	let authenticated = false;
	let refused: string | null = null;
	let stored = new Map<number, number>();
	const listeners = new Set<(status: SessionStatus) => void>();

	const status = (): SessionStatus => {
		const covered = loaded && coversLocalChanges(stored, Y.decodeStateVector(Y.encodeStateVector(doc)), localClients);
		// Retries after a lost connection stay "offline" (each attempt would flash "connecting");
		// only the very first attempt reads "connecting", and then the indicator says "syncing".
		// A refused or server-closed document is as good as offline: nothing reaches the server.
		const down = refused !== null || socket === "disconnected" || (socket === "connecting" && lostConnection);
		const connection: ConnectionState = connected && synced ? "live" : down ? "offline" : "connecting";
		const sync = syncState({ connected: !down, synced: connected && synced, covered });
		return { connection, sync, readOnly, authenticated, refused, notOnServer };
	};
	let last = "";
	let loaded = false;
	let scheduled: { frame: number; timer: ReturnType<typeof setTimeout> } | null = null;
	const emit = () => {
		if (scheduled) {
			cancelAnimationFrame(scheduled.frame);
			clearTimeout(scheduled.timer);
			scheduled = null;
		}
		const now = status();
		setSessionConnectionDown(now.connection === "offline");
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
		// After a dropped connection the server removed this person's presence but kept its clock, so the
		// same state sent again would be ignored: re-announce it with the next clock.
		const presence = provider.awareness?.getLocalState();
		if (presence) provider.awareness?.setLocalState({ ...presence });
		readOnly = scope === "readonly";
		authenticated = true;
		refused = null;
		emit();
	});
	provider.on("authenticationFailed", ({ reason }: { reason: string }) => {
		refused = reason || "The server refused the connection";
		emit();
	});
	// The server ended this document's connection while the socket stays open (the provider then neither
	// syncs nor retries): a token revoked by logout or a password change, or access removed.
	provider.on("close", ({ event }: { event?: { reason?: string } }) => {
		const websocket = provider.configuration.websocketProvider as unknown as { status?: string };
		if (websocket.status !== "connected") return; // The socket itself closed: "status" covers it.
		synced = false;
		authenticated = false;
		refused = serverCloseMessage(event?.reason ?? "");
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
			return;
		}
		// A downgrade while connected: the server already drops this connection's edits.
		const access = decodeAccessMessage(payload);
		if (access) {
			readOnly = access.readOnly;
			emit();
		}
	});
	// Document updates (every keystroke) only move "saved" to "syncing" and back: once per frame
	// is enough, and a timer covers hidden tabs, where frames do not run.
	const onUpdate = () => {
		scheduled ??= { frame: requestAnimationFrame(emit), timer: setTimeout(emit, 100) };
	};
	doc.on("update", onUpdate);

	let destroyed = false;
	let retryTimer: ReturnType<typeof setTimeout> | undefined;
	const whenLocalLoaded = local.whenLoaded.catch((e: unknown) => {
		// No IndexedDB (private mode, quota): work online only.
		console.error("local copy unavailable", e);
	});
	const connectWhenRegistered = async () => {
		if (destroyed) return;
		if (notOnServer) {
			const outcome = await registerPendingSession(options.user.id, options.sessionId);
			if (destroyed) return;
			if (outcome === "offline") {
				socket = "disconnected";
				lostConnection = true;
				emit();
				// The browser may think it is online while the server is unreachable: no
				// "online" event will come, so try again on a timer too.
				retryTimer ??= setTimeout(() => {
					retryTimer = undefined;
					void connectWhenRegistered();
				}, REGISTER_RETRY_MS);
				return;
			}
			notOnServer = false;
			if (outcome === "refused") refused = "This session could not be created on the server";
		}
		void socketProvider.connect();
	};
	// Back online: register a pending session, or retry the socket at once instead of after
	// the provider's back-off (up to 30 s).
	const onOnline = () => void connectWhenRegistered();
	window.addEventListener("online", onOnline);
	void connectWhenRegistered();
	void Promise.all([whenLocalLoaded, local.whenClientsLoaded.catch(() => [])]).then(([, earlier]) => {
		if (destroyed) return;
		for (const client of earlier) localClients.add(client);
		loaded = true;
		emit();
	});

	return {
		doc,
		provider,
		self,
		localClients,
		whenLocalLoaded,
		status,
		onStatus(listener) {
			listeners.add(listener);
			listener(status());
			return () => listeners.delete(listener);
		},
		destroy() {
			destroyed = true;
			clearTimeout(retryTimer);
			if (scheduled) {
				cancelAnimationFrame(scheduled.frame);
				clearTimeout(scheduled.timer);
			}
			window.removeEventListener("online", onOnline);
			setSessionConnectionDown(false);
			listeners.clear();
			doc.off("update", onUpdate);
			provider.destroy();
			socketProvider.destroy();
			void local.destroy();
			doc.destroy();
		},
	};
}
