/**
 * The server's `{"type":"access","role"}` stateless message, sent to a connection whose role
 * changed while it was open (RELIABILITY 20). Returns the new role, or null for other payloads.
 */
export function decodeAccessMessage(payload: string): "owner" | "editor" | "viewer" | null {
	let message: unknown;
	try {
		message = JSON.parse(payload);
	} catch {
		return null;
	}
	const { type, role } = (message ?? {}) as { type?: unknown; role?: unknown };
	if (type !== "access") return null;
	return role === "owner" || role === "editor" || role === "viewer" ? role : null;
}
