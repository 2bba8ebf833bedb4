/** A role in a session (CONTRACT "Interviews"). */
export type SessionRoleName = "owner" | "interviewer" | "editor" | "viewer";

/** What an access message tells one connection. */
export interface AccessChange {
	readonly role: SessionRoleName;
	/** Whether the server now drops this connection's edits. */
	readonly readOnly: boolean;
	/** Whether the interview is ended (POST /end) or open again. */
	readonly ended: boolean;
}

const ROLES: readonly string[] = ["owner", "interviewer", "editor", "viewer"];

/**
 * The server's `{"type":"access","role","readOnly","ended"}` stateless message, sent to a
 * connection whose role changed or whose interview ended or reopened while it was open
 * (RELIABILITY 20). Returns the change, or null for other payloads.
 */
export function decodeAccessMessage(payload: string): AccessChange | null {
	let message: unknown;
	try {
		message = JSON.parse(payload);
	} catch {
		return null;
	}
	const { type, role, readOnly, ended } = (message ?? {}) as {
		type?: unknown;
		role?: unknown;
		readOnly?: unknown;
		ended?: unknown;
	};
	if (type !== "access" || typeof role !== "string" || !ROLES.includes(role)) return null;
	return {
		role: role as SessionRoleName,
		readOnly: typeof readOnly === "boolean" ? readOnly : role === "viewer",
		ended: ended === true,
	};
}
