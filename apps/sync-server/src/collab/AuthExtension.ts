import type {
	beforeHandleAwarenessPayload,
	beforeHandleMessagePayload,
	Extension,
	Hocuspocus,
	onAuthenticatePayload,
} from "@hocuspocus/server";
import { tokenFromCookieHeader, userForToken } from "../auth/requestAuth.ts";
import type { TokenService } from "../auth/tokens.ts";
import type { Db } from "../db/database.ts";
import { isSessionId } from "../sessions/sessionIds.ts";
import { type Role, roleOf } from "../sessions/sessionRepository.ts";
import { AccessRevoked, TokenRevoked } from "./closeEvents.ts";
import { type CollabContext, isCollabContext } from "./collabContext.ts";
import { checkIncomingMessage } from "./updateGuard.ts";

/**
 * Largest awareness state one client may publish (RELIABILITY 19): a name, a colour and a
 * cursor fit in a few hundred bytes; 4 KiB leaves room and keeps every peer's copy small.
 */
export const MAX_AWARENESS_STATE_BYTES = 4096;

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
		request,
		requestHeaders,
		connectionConfig,
	}: onAuthenticatePayload): Promise<CollabContext> {
		if (!isSessionId(documentName)) throw new Error("Invalid document name");
		// A socket opened on /collab/{id} (routed by document) serves only that document.
		const pinned = pinnedSessionId(request);
		if (pinned !== null && pinned !== documentName) throw new Error("Document does not match the socket path");
		const raw = token || tokenFromCookieHeader(requestHeaders.get("cookie"));
		if (!raw) throw new Error("Authentication required");
		const user = await userForToken({ db: this.db, tokens: this.tokens }, raw);
		const role = await roleOf(this.db, documentName, user.id);
		if (!role) throw new Error("Not a participant of this session");
		connectionConfig.readOnly = role === "viewer";
		return { user: { id: user.id, username: user.username }, tokenVersion: user.tokenVersion, role };
	}

	/** Refuse malformed or decoder-stalling updates before they reach the document (RELIABILITY 15). */
	async beforeHandleMessage({ update, document }: beforeHandleMessagePayload): Promise<void> {
		checkIncomingMessage(document, update);
	}

	/** Drop oversized awareness states before they are applied or broadcast. */
	async beforeHandleAwareness({ states }: beforeHandleAwarenessPayload): Promise<void> {
		for (const [clientId, state] of states) {
			let size: number;
			try {
				size = Buffer.byteLength(JSON.stringify(state) ?? "", "utf8");
			} catch {
				size = Number.POSITIVE_INFINITY;
			}
			if (size > MAX_AWARENESS_STATE_BYTES) states.delete(clientId);
		}
	}
}

function pinnedSessionId(request: Request | undefined): string | null {
	if (!request?.url) return null;
	try {
		const match = /^\/collab\/([^/]+)$/.exec(new URL(request.url, "http://localhost").pathname);
		return match?.[1] ?? null;
	} catch {
		return null;
	}
}

/** Stateless message type telling one connection its role changed. */
export const ACCESS_MESSAGE_TYPE = "access";

/**
 * Sent to each affected connection only, when its role changes while connected:
 * `{"type":"access","role":"viewer"}` (the editor switches to read-only) or `"editor"` (back to editing).
 */
export interface AccessMessage {
	type: typeof ACCESS_MESSAGE_TYPE;
	role: Role;
}

/**
 * Apply a role change to this node's open sockets of that user on that session:
 * a viewer becomes read-only in place and is told so with an AccessMessage, a removed
 * participant is disconnected (RELIABILITY 20). Called by the routes for changes made on
 * this node and by AccessWatcher for changes made on others.
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
		if (context.role === role) continue;
		context.role = role;
		connection.readOnly = role === "viewer";
		const message: AccessMessage = { type: ACCESS_MESSAGE_TYPE, role };
		connection.sendStateless(JSON.stringify(message));
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
