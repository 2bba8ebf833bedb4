import type { Extension, Hocuspocus, onAuthenticatePayload } from "@hocuspocus/server";
import { tokenFromCookieHeader, userForToken } from "../auth/requestAuth.ts";
import type { TokenService } from "../auth/tokens.ts";
import type { Db } from "../db/database.ts";
import { isSessionId } from "../sessions/sessionIds.ts";
import { type Role, roleOf } from "../sessions/sessionRepository.ts";
import { AccessRevoked, TokenRevoked } from "./closeEvents.ts";
import { type CollabContext, isCollabContext } from "./collabContext.ts";

export interface AuthExtensionOptions {
	readonly db: Db;
	readonly tokens: TokenService;
}

/**
 * Authenticates every (socket, document) pair: Hocuspocus runs onAuthenticate per
 * document, so a socket authenticated for session A gets nothing of B without its own
 * check (RELIABILITY 18). Viewers connect read-only (RELIABILITY 19).
 */
export class AuthExtension implements Extension {
	readonly extensionName = "tandem-auth";
	// Run before every other onAuthenticate and before persistence loads anything.
	priority = 2000;
	private readonly db: Db;
	private readonly tokens: TokenService;

	constructor(options: AuthExtensionOptions) {
		this.db = options.db;
		this.tokens = options.tokens;
	}

	async onAuthenticate({
		documentName,
		token,
		requestHeaders,
		connectionConfig,
	}: onAuthenticatePayload): Promise<CollabContext> {
		if (!isSessionId(documentName)) throw new Error("Invalid document name");
		const raw = token || tokenFromCookieHeader(requestHeaders.get("cookie"));
		if (!raw) throw new Error("Authentication required");
		const user = await userForToken({ db: this.db, tokens: this.tokens }, raw);
		const role = await roleOf(this.db, documentName, user.id);
		if (!role) throw new Error("Not a participant of this session");
		connectionConfig.readOnly = role === "viewer";
		return { user: { id: user.id, username: user.username }, tokenVersion: user.tokenVersion, role };
	}
}

/**
 * Apply a role change to this node's open sockets of that user on that session:
 * a viewer becomes read-only in place, a removed participant is disconnected (RELIABILITY 20).
 */
export function applyRoleToConnections(
	hocuspocus: Hocuspocus,
	sessionId: string,
	userId: string,
	role: Role | null,
): void {
	const document = hocuspocus.documents.get(sessionId);
	if (!document) return;
	for (const connection of document.getConnections()) {
		const context = connection.context as unknown;
		if (!isCollabContext(context) || context.user.id !== userId) continue;
		if (role === null) {
			connection.close(AccessRevoked);
			continue;
		}
		context.role = role;
		connection.readOnly = role === "viewer";
	}
}

/** Close every open socket of a user on this node (logout, password change: RELIABILITY 27). */
export function closeUserConnections(hocuspocus: Hocuspocus, userId: string): void {
	for (const document of hocuspocus.documents.values()) {
		for (const connection of document.getConnections()) {
			const context = connection.context as unknown;
			if (isCollabContext(context) && context.user.id === userId) connection.close(TokenRevoked);
		}
	}
}
