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
import { canEditDocument, type Role } from "../sessions/roles.ts";
import { isSessionId } from "../sessions/sessionIds.ts";
import { accessOf, shownName } from "../sessions/sessionRepository.ts";
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
		const access = await accessOf(this.db, documentName, user.id);
		const role = access?.role;
		if (!role) throw new Error("Not a participant of this session");
		const ended = access.endedAt !== null;
		connectionConfig.readOnly = !canEditDocument(role, ended);
		return { user: { id: user.id, username: shownName(user) }, tokenVersion: user.tokenVersion, role, ended };
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
 * `{"type":"access","role":"viewer","readOnly":true,"ended":false}` (the editor switches to read-only)
 * or `"editor"` (back to editing); `ended` says the interview was ended (POST /end) or reopened.
 */
export interface AccessMessage {
	type: typeof ACCESS_MESSAGE_TYPE;
	role: Role;
	readOnly: boolean;
	ended: boolean;
}

/** A connection's rights: its role (null: removed) and whether the interview is ended. */
export interface ConnectionAccess {
	readonly role: Role | null;
	readonly ended: boolean;
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
	applyAccess(hocuspocus, sessionId, (context) => (context.user.id === userId ? { role, ended: context.ended } : null));
}

/**
 * Apply the end (or reopening) of an interview to every open socket of the session on this
 * node: editors become read-only (or editable again) in place and are told with an AccessMessage.
 */
export function applyEndedToConnections(hocuspocus: Hocuspocus, sessionId: string, ended: boolean): void {
	applyAccess(hocuspocus, sessionId, (context) => ({ role: context.role, ended }));
}

/** Bring each connection of the session to the access `next` gives it (null: leave it as it is). */
export function applyAccess(
	hocuspocus: Hocuspocus,
	sessionId: string,
	next: (context: CollabContext) => ConnectionAccess | null,
): void {
	const document = hocuspocus.documents.get(sessionId);
	if (!document) return;
	for (const connection of document.getConnections()) {
		const context = connection.context as unknown;
		if (!isCollabContext(context)) continue;
		const access = next(context);
		if (access === null) continue;
		if (access.role === null) {
			connection.close(AccessRevoked);
			continue;
		}
		if (context.role === access.role && context.ended === access.ended) continue;
		context.role = access.role;
		context.ended = access.ended;
		connection.readOnly = !canEditDocument(access.role, access.ended);
		const message: AccessMessage = {
			type: ACCESS_MESSAGE_TYPE,
			role: access.role,
			readOnly: connection.readOnly,
			ended: access.ended,
		};
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
