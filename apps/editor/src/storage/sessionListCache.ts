/** A row of GET /sessions as the sessions page shows it. */
export interface SessionSummary {
	readonly id: string;
	readonly title: string;
	readonly language: string;
	readonly role: string;
	readonly createdAt: string;
}

const key = (userId: string) => `tandem.sessions.${userId}`;

function isSummary(value: unknown): value is SessionSummary {
	const v = value as Partial<SessionSummary> | null;
	return (
		typeof v?.id === "string" &&
		typeof v.title === "string" &&
		typeof v.language === "string" &&
		typeof v.role === "string" &&
		typeof v.createdAt === "string"
	);
}

/** Remember the last session list the server gave this person, for reading offline. */
export function saveSessionList(userId: string, sessions: readonly SessionSummary[]): void {
	try {
		const rows = sessions.map(({ id, title, language, role, createdAt }) => ({ id, title, language, role, createdAt }));
		localStorage.setItem(key(userId), JSON.stringify(rows));
	} catch {
		// Storage full or disabled: the list is only a convenience offline.
	}
}

/** The last stored session list, or null when there is none. */
export function loadSessionList(userId: string): SessionSummary[] | null {
	try {
		const raw = localStorage.getItem(key(userId));
		if (!raw) return null;
		const value: unknown = JSON.parse(raw);
		return Array.isArray(value) ? value.filter(isSummary) : null;
	} catch {
		return null;
	}
}

/** A session role as the server names it. */
export type CachedRole = "owner" | "interviewer" | "editor" | "viewer";

/**
 * This person's role in a session from the last stored list, or null when unknown. Offline the
 * page cannot ask the server, and a viewer must still get a read-only editor.
 */
export function cachedSessionRole(userId: string, sessionId: string): CachedRole | null {
	let role: string | null | undefined;
	try {
		role = localStorage.getItem(roleKey(userId, sessionId));
	} catch {
		role = null;
	}
	role ??= loadSessionList(userId)?.find((s) => s.id === sessionId)?.role;
	return role === "owner" || role === "interviewer" || role === "editor" || role === "viewer" ? role : null;
}

const roleKey = (userId: string, sessionId: string) => `tandem.role.${userId}.${sessionId}`;

/** Remember this person's role in a session, as the server last reported it, for offline visits. */
export function saveSessionRole(userId: string, sessionId: string, role: CachedRole | null): void {
	try {
		if (role) localStorage.setItem(roleKey(userId, sessionId), role);
		else localStorage.removeItem(roleKey(userId, sessionId));
	} catch {
		// Storage full or disabled: offline visits fall back to the session list.
	}
}
