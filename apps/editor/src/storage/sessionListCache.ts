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
