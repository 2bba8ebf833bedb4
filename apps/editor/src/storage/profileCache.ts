import { ApiError, api } from "../api/apiClient.ts";
import { type AuthUser, loadAuth, saveAuth } from "../auth/authStore.ts";

/**
 * Refresh the stored profile from GET /me while online. The profile stays in localStorage
 * (the token is the httpOnly cookie), so offline the app still knows who is logged in; an unreachable server
 * leaves it as it was. Resolves to the current user, or null when signed out.
 */
export async function refreshProfile(): Promise<AuthUser | null> {
	const auth = loadAuth();
	if (!auth) return null;
	try {
		const { user } = await api<{ user: AuthUser }>("GET", "/me");
		const current = loadAuth();
		// Still the same person (no sign-out or other sign-in meanwhile).
		if (current?.user.id === auth.user.id && typeof user?.id === "string" && typeof user.username === "string") {
			saveAuth({ user: { id: user.id, username: user.username, email: user.email } });
		}
		return loadAuth()?.user ?? null;
	} catch (e: unknown) {
		// 401 already forgot the token in the API client; anything else keeps the cached profile.
		if (e instanceof ApiError && e.status === 401) return null;
		return auth.user;
	}
}
