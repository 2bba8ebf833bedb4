import type { Connection, Hocuspocus } from "@hocuspocus/server";
import { isCollabContext } from "../collab/collabContext.ts";
import type { Role } from "../sessions/roles.ts";

/**
 * Send a stateless message to this node's connections of a session document. `payloadFor`
 * picks the payload per recipient by user and current role (null: send nothing), so results
 * can be redacted per role.
 * relayStateless skips the Redis hook on purpose: every node gets the queue's events itself
 * and sends to its own connections, so relaying through Redis would deliver twice.
 */
export function sendToSession(
	hocuspocus: Hocuspocus,
	sessionId: string,
	payloadFor: (userId: string | undefined, role: Role | undefined) => string | null,
): void {
	const document = hocuspocus.documents.get(sessionId);
	if (!document) return;
	const byPayload = new Map<string, Set<Connection>>();
	for (const connection of document.getConnections()) {
		const context = isCollabContext(connection.context) ? connection.context : undefined;
		const payload = payloadFor(context?.user.id, context?.role);
		if (payload === null) continue;
		let set = byPayload.get(payload);
		if (!set) byPayload.set(payload, (set = new Set()));
		set.add(connection);
	}
	for (const [payload, connections] of byPayload) document.relayStateless(payload, (c) => connections.has(c));
}
