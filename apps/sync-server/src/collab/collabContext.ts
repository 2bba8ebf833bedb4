import type { Role } from "../sessions/sessionRepository.ts";

/** What onAuthenticate stores on a collaboration connection. */
export interface CollabContext {
	readonly user: { readonly id: string; readonly username: string };
	readonly tokenVersion: number;
	role: Role;
}

export function isCollabContext(value: unknown): value is CollabContext {
	if (typeof value !== "object" || value === null) return false;
	const user = (value as { user?: unknown }).user;
	return typeof user === "object" && user !== null && typeof (user as { id?: unknown }).id === "string";
}
