import { api } from "../api/apiClient.ts";
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
}

/** What opening `/s/{id}` waits for, all started at once. */
export interface SessionStart {
	/** The document with its local copy and connection, opened as soon as its code arrives. */
	readonly session: Promise<OpenSession>;
	/** GET /session/{id} (after registering a session made offline); rejects with ApiError. */
	readonly view: Promise<SessionView>;
}

/**
 * Start everything the session page needs in parallel, before the page's own code (CodeMirror)
 * has loaded: the session details, and the document's code, IndexedDB copy and WebSocket.
 */
export function startSession(sessionId: string, auth: Auth): SessionStart {
	const view = (async () => {
		// Made offline on this device: the server learns of it first (or we stay offline).
		if (isPendingSession(auth.user.id, sessionId)) await registerPendingSession(auth.user.id, sessionId);
		return api<SessionView>("GET", `/session/${encodeURIComponent(sessionId)}`);
	})();
	// The page handles a failure; this only keeps it from being reported as unhandled meanwhile.
	view.catch(() => {});
	const session = import("../collab/openSession.ts").then(({ openSession }) =>
		openSession({ sessionId, token: auth.token, user: auth.user }),
	);
	return { session, view };
}

/** Close what `startSession` opened when the page will never show it. */
export function abandonSession(start: SessionStart): void {
	void start.session.then((session) => session.destroy()).catch(() => {});
}
