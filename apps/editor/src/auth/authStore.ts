/** The signed-in person as the server describes them (never a password hash). */
export interface AuthUser {
	readonly id: string;
	readonly username: string;
	readonly email?: string;
}

export interface Auth {
	readonly token: string;
	readonly user: AuthUser;
}

const STORAGE_KEY = "tandem.auth";

/** The stored sign-in, or null when absent or unreadable. */
export function loadAuth(): Auth | null {
	try {
		const raw = localStorage.getItem(STORAGE_KEY);
		if (!raw) return null;
		const value = JSON.parse(raw) as Partial<Auth> | null;
		if (typeof value?.token !== "string" || typeof value.user?.id !== "string") return null;
		if (typeof value.user.username !== "string") return null;
		return { token: value.token, user: value.user };
	} catch {
		return null;
	}
}

export function saveAuth(auth: Auth): void {
	localStorage.setItem(STORAGE_KEY, JSON.stringify({ token: auth.token, user: auth.user }));
}

export function clearAuth(): void {
	localStorage.removeItem(STORAGE_KEY);
}
