import { ApiError, api } from "../api/apiClient.ts";
import type { Auth } from "../auth/authStore.ts";
import type { OpenSession } from "../collab/openSession.ts";
import { isPendingSession, registerPendingSession } from "../storage/pendingSessions.ts";

/** GET /session/{id} as the page uses it. */
export interface SessionView {
	readonly id: string;
	readonly ownerId: string;
	readonly title: string;
	readonly language: string;
	readonly participants: readonly { readonly userId: string; readonly role: string }[];
	/** When the interview was ended; null while open. */
	readonly endedAt?: string | null;
}

/** What opening `/s/{id}` waits for, all started at once. */
export interface SessionStart {
	/** The document with its local copy and connection, opened as soon as its code arrives. */
	readonly session: Promise<OpenSession>;
	/** GET /session/{id} (after registering a session made offline); rejects with ApiError. */
	readonly view: Promise<SessionView>;
}

/** Longest wait for the connection's first verdict before asking for the session details anyway. */
const VIEW_DELAY_MAX_MS = 3000;

/** Resolves once the server has accepted or refused the connection, or it is offline. */
function firstVerdict(session: OpenSession): Promise<void> {
	return new Promise((resolve) => {
		let done = false;
		let stop: (() => void) | undefined;
		const timer = setTimeout(() => finish(), VIEW_DELAY_MAX_MS);
		const finish = () => {
			done = true;
			clearTimeout(timer);
			stop?.();
			resolve();
		};
		stop = session.onStatus((status) => {
			if (!done && (status.authenticated || status.refused !== null || status.connection === "offline")) finish();
		});
		if (done) stop();
	});
}

/**
 * Start the document's code, IndexedDB copy and WebSocket before the page's own code
 * (CodeMirror) has loaded. GET /session waits for the connection's first verdict: the server
 * answers one request at a time per core, and the WebSocket handshake should not queue behind
 * it; the editor's role comes from the server's verdict (or the stored role) meanwhile.
 */
export function startSession(sessionId: string, auth: Auth): SessionStart {
	const session = import("../collab/openSession.ts").then(({ openSession }) =>
		openSession({ sessionId, user: auth.user }),
	);
	const view = session.then(firstVerdict).then(async () => {
		// Made offline on this device: the server learns of it first (or we stay offline).
		if (isPendingSession(auth.user.id, sessionId)) {
			// Still unregistered (the network came back only now): asking for it would get a 404 and a
			// "No such session" page. Treat it as offline; the document stays open and registers on reconnect.
			if ((await registerPendingSession(auth.user.id, sessionId)) === "offline") {
				throw new ApiError(0, "network", "The session is not on the server yet");
			}
		}
		return api<SessionView>("GET", `/session/${encodeURIComponent(sessionId)}`);
	});
	// The page handles a failure; this only keeps it from being reported as unhandled meanwhile.
	view.catch(() => {});
	return { session, view };
}

/** Close what `startSession` opened when the page will never show it. */
export function abandonSession(start: SessionStart): void {
	void start.session.then((session) => session.destroy()).catch(() => {});
}
