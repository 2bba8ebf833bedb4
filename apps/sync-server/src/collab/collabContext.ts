import type { Role } from "../sessions/roles.ts";

/** What onAuthenticate stores on a collaboration connection. */
export interface CollabContext {
	readonly user: { readonly id: string; readonly username: string };
	readonly tokenVersion: number;
	role: Role;
	/** Whether the interview was ended when this connection last learned its access. */
	ended: boolean;
}

export function isCollabContext(value: unknown): value is CollabContext {
	if (typeof value !== "object" || value === null) return false;
	const user = (value as { user?: unknown }).user;
	return typeof user === "object" && user !== null && typeof (user as { id?: unknown }).id === "string";
}
