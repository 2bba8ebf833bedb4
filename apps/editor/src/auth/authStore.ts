/** The signed-in person as the server describes them (never a password hash). */
export interface AuthUser {
	readonly id: string;
	readonly username: string;
	readonly email?: string;
}

/**
 * Who is signed in on this device. The token itself is the server's httpOnly cookie, out of reach
 * of page scripts (RELIABILITY 51); only the profile is stored, so the app knows who it is offline.
 */
export interface Auth {
	readonly user: AuthUser;
}

const STORAGE_KEY = "tandem.auth";

/** The stored sign-in, or null when absent or unreadable. A token stored by an older version is dropped. */
export function loadAuth(): Auth | null {
	try {
		const raw = localStorage.getItem(STORAGE_KEY);
		if (!raw) return null;
		const value = JSON.parse(raw) as { token?: unknown; user?: Partial<AuthUser> } | null;
		if (typeof value?.user?.id !== "string" || typeof value.user.username !== "string") return null;
		const auth: Auth = { user: value.user as AuthUser };
		if (value.token !== undefined) saveAuth(auth);
		return auth;
	} catch {
		return null;
	}
}

/** Remember who signed in (an answer of /login, /register or /change-password: its token is not kept). */
export function saveAuth(auth: { readonly user: AuthUser }): void {
	const { id, username, email } = auth.user;
	localStorage.setItem(STORAGE_KEY, JSON.stringify({ user: { id, username, email } }));
}

export function clearAuth(): void {
	localStorage.removeItem(STORAGE_KEY);
}
