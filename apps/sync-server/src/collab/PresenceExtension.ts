import {
	type beforeHandleAwarenessPayload,
	type beforeHandleMessagePayload,
	type Connection,
	type Document,
	type Extension,
	isTransactionOrigin,
	type onDisconnectPayload,
} from "@hocuspocus/server";
import { cleanPresenceState, isPresenceName, type PresenceState, type PresenceUser } from "@tandem/crdt-schema";
import * as decoding from "lib0/decoding";
import { TokenBucket } from "../call/TokenBucket.ts";
import { MAX_AWARENESS_STATE_BYTES } from "./AuthExtension.ts";
import { MalformedPresence, PresenceFlood, PresenceTooLarge } from "./closeEvents.ts";
import { isCollabContext } from "./collabContext.ts";

/**
 * Client ids one connection may announce presence for. The stock provider announces exactly one
 * (its awareness is its Y.Doc's clientID); a second leaves room for a client that rebuilds its
 * awareness on the same socket. Every id is one cursor and one "People" entry on every screen.
 */
export const MAX_PRESENCE_CLIENTS_PER_CONNECTION = 2;
/**
 * Largest awareness message from a client, in bytes of the whole frame: one state per announced
 * id at the per-state cap, plus the envelope (document name, ids, clocks). Larger closes that
 * document connection ("Presence update too large") before the frame is decoded.
 */
export const MAX_AWARENESS_MESSAGE_BYTES = MAX_PRESENCE_CLIENTS_PER_CONNECTION * (MAX_AWARENESS_STATE_BYTES + 64) + 256;
/**
 * Presence updates per connection: y-codemirror.next sends one per selection change, so a held
 * key (~30/s) or a fast drag stays under 50/s; 100 covers a burst. Over the rate an update is
 * dropped (the next one carries the whole state); a full bucket's worth of drops in a row closes
 * the connection ("Presence update rate exceeded").
 */
export const PRESENCE_BURST = 100;
export const PRESENCE_REFILL_PER_SECOND = 50;
/** The name shown when an account's username is not a valid presence name (never expected). */
const FALLBACK_NAME = "Participant";

// y-protocols / Hocuspocus message type of an awareness update.
const MESSAGE_AWARENESS = 1;

/** Thrown from beforeHandleMessage: Hocuspocus closes the document connection with code and reason. */
class PresenceRefused extends Error {
	override name = "PresenceRefused";
	readonly code: number;
	readonly reason: string;
	constructor(event: { code: number; reason: string }, detail: string) {
		super(`${event.reason}: ${detail}`);
		this.code = event.code;
		this.reason = event.reason;
	}
}

interface ConnectionPresence {
	readonly ids: Set<number>;
	readonly bucket: TokenBucket;
	dropStreak: number;
}

interface Binding {
	readonly connection: Connection;
	readonly socketId: string;
	readonly userId: string;
}

interface DocumentPresence {
	/** Client id → the local connection that announced it. */
	readonly bindings: Map<number, Binding>;
	/** Per socket id (one connection per socket and document). */
	readonly connections: Map<string, ConnectionPresence>;
}

/**
 * Presence (awareness) that one participant cannot use against the others (RELIABILITY 46).
 *
 * - Each awareness client id belongs to the connection that first announced it (at most
 *   MAX_PRESENCE_CLIENTS_PER_CONNECTION per connection). An entry for an id held by another
 *   connection — or, on this node, by another user's state relayed from another node — is
 *   dropped before it is applied or relayed, whatever its clock. A newer connection of the same
 *   user takes the id over (a reconnect while the old socket lingers).
 * - Frames over MAX_AWARENESS_MESSAGE_BYTES, or with more entries than a connection may own,
 *   close the document connection before they are decoded; updates over the rate are dropped.
 * - Every state is reduced to its known, well-formed fields (SPEC PR2), and `user.id` and
 *   `user.name` are set from the authenticated account: nobody can take another's name, and
 *   other nodes can tell whose state they receive.
 * - States relayed from other nodes through Redis are checked the same way, and may not
 *   overwrite an id a local connection holds or another user's state.
 */
export class PresenceExtension implements Extension {
	readonly extensionName = "tandem-presence";
	// After the auth extension (2000), before everything that reads or relays presence.
	priority = 1500;

	private readonly documents = new WeakMap<Document, DocumentPresence>();
	/**
	 * The client ids the awareness frame being handled on a connection carries. Hocuspocus decodes
	 * a frame into a scratch Awareness whose own (random) id comes along with an empty state, so
	 * the states the hook sees are checked against the frame itself.
	 */
	private readonly frameIds = new WeakMap<Connection, ReadonlySet<number>>();
	private readonly burst: number;
	private readonly refillPerSecond: number;

	constructor(options: { burst?: number; refillPerSecond?: number } = {}) {
		this.burst = options.burst ?? PRESENCE_BURST;
		this.refillPerSecond = options.refillPerSecond ?? PRESENCE_REFILL_PER_SECOND;
	}

	/** Refuse oversized or over-full awareness frames before Hocuspocus decodes them. */
	async beforeHandleMessage({ update, connection }: beforeHandleMessagePayload): Promise<void> {
		const decoder = decoding.createDecoder(update);
		try {
			decoding.readVarString(decoder);
			if (decoding.readVarUint(decoder) !== MESSAGE_AWARENESS) return;
			if (update.length > MAX_AWARENESS_MESSAGE_BYTES)
				throw new PresenceRefused(PresenceTooLarge, `${update.length} bytes`);
			const entries = decoding.createDecoder(decoding.readVarUint8Array(decoder));
			const count = decoding.readVarUint(entries);
			if (count > MAX_PRESENCE_CLIENTS_PER_CONNECTION)
				throw new PresenceRefused(PresenceTooLarge, `${count} states in one update`);
			const ids = new Set<number>();
			for (let i = 0; i < count; i++) {
				ids.add(decoding.readVarUint(entries));
				decoding.readVarUint(entries); // clock
				decoding.readVarString(entries); // state (JSON)
			}
			this.frameIds.set(connection, ids);
		} catch (e: unknown) {
			if (e instanceof PresenceRefused) throw e;
			throw new PresenceRefused(MalformedPresence, "truncated awareness message");
		}
	}

	async beforeHandleAwareness({
		states,
		connection,
		context,
		document,
		transactionOrigin,
	}: beforeHandleAwarenessPayload): Promise<void> {
		if (connection) this.fromConnection(document, connection, context, states);
		else if (isTransactionOrigin(transactionOrigin) && transactionOrigin.source === "redis")
			this.fromOtherNode(document, states);
	}

	async onDisconnect({ document, socketId }: onDisconnectPayload): Promise<void> {
		const presence = this.documents.get(document);
		if (!presence) return;
		const own = presence.connections.get(socketId);
		presence.connections.delete(socketId);
		for (const id of own?.ids ?? []) {
			if (presence.bindings.get(id)?.socketId === socketId) presence.bindings.delete(id);
		}
	}

	private fromConnection(
		document: Document,
		connection: Connection,
		context: unknown,
		states: Map<number, Record<string, unknown>>,
	): void {
		if (!isCollabContext(context)) {
			states.clear();
			return;
		}
		const sent = this.frameIds.get(connection);
		this.frameIds.delete(connection);
		for (const clientId of states.keys()) if (!sent?.has(clientId)) states.delete(clientId);
		const presence = this.presenceOf(document);
		let own = presence.connections.get(connection.socketId);
		if (!own) {
			own = { ids: new Set(), bucket: new TokenBucket(this.burst, this.refillPerSecond), dropStreak: 0 };
			presence.connections.set(connection.socketId, own);
		}
		if (states.size === 0) return;
		if (!own.bucket.take()) {
			states.clear();
			own.dropStreak += 1;
			if (own.dropStreak > this.burst) connection.close(PresenceFlood);
			return;
		}
		own.dropStreak = 0;
		const user = context.user;
		for (const [clientId, raw] of states) {
			if (!this.claim(document, presence, own, connection, user.id, clientId)) {
				states.delete(clientId);
				continue;
			}
			const clean = cleanPresenceState(raw);
			const stamped: PresenceState = { ...clean, user: accountUser(user, clean.user) };
			if (byteSize(stamped) > MAX_AWARENESS_STATE_BYTES) states.delete(clientId);
			else states.set(clientId, stamped as Record<string, unknown>);
		}
	}

	/**
	 * Whether `connection` (of `userId`) may announce `clientId`, binding it when it may.
	 * Ids are first come, first served; the server's own awareness id is never available.
	 */
	private claim(
		document: Document,
		presence: DocumentPresence,
		own: ConnectionPresence,
		connection: Connection,
		userId: string,
		clientId: number,
	): boolean {
		if (clientId === document.awareness.clientID) return false;
		const bound = presence.bindings.get(clientId);
		if (bound?.connection === connection) return true;
		if (bound && bound.userId !== userId) return false;
		if (!bound) {
			// Held by another user's state from another node (a local one would be bound).
			const holder = userIdOf(document.awareness.getStates().get(clientId));
			if (holder !== undefined && holder !== userId) return false;
		}
		if (own.ids.size >= MAX_PRESENCE_CLIENTS_PER_CONNECTION) return false;
		if (bound) {
			// The same person's newer connection: the id moves, and Hocuspocus's own record of which
			// connection's states to remove when it closes moves with it.
			presence.connections.get(bound.socketId)?.ids.delete(clientId);
			document.getClients(bound.connection).delete(clientId);
			document.getClients(connection).add(clientId);
		}
		presence.bindings.set(clientId, { connection, socketId: connection.socketId, userId });
		own.ids.add(clientId);
		return true;
	}

	private fromOtherNode(document: Document, states: Map<number, Record<string, unknown>>): void {
		const presence = this.documents.get(document);
		const current = document.awareness.getStates();
		for (const [clientId, raw] of states) {
			const clean = cleanPresenceState(raw);
			const userId = clean.user?.id;
			const holder = userIdOf(current.get(clientId));
			const refused =
				userId === undefined ||
				clientId === document.awareness.clientID ||
				presence?.bindings.has(clientId) === true ||
				(holder !== undefined && holder !== userId) ||
				byteSize(clean) > MAX_AWARENESS_STATE_BYTES;
			if (refused) states.delete(clientId);
			else states.set(clientId, clean as Record<string, unknown>);
		}
	}

	private presenceOf(document: Document): DocumentPresence {
		let presence = this.documents.get(document);
		if (!presence) {
			presence = { bindings: new Map(), connections: new Map() };
			this.documents.set(document, presence);
		}
		return presence;
	}
}

/** The account's id and username; the colours the client chose when they are well-formed. */
function accountUser(account: { id: string; username: string }, claimed: PresenceUser | undefined): PresenceUser {
	return {
		id: account.id,
		name: isPresenceName(account.username) ? account.username : FALLBACK_NAME,
		...(claimed?.color ? { color: claimed.color } : {}),
		...(claimed?.colorLight ? { colorLight: claimed.colorLight } : {}),
	};
}

function userIdOf(state: unknown): string | undefined {
	const user = (state as { user?: { id?: unknown } } | undefined)?.user;
	return typeof user?.id === "string" ? user.id : undefined;
}

function byteSize(state: PresenceState): number {
	return Buffer.byteLength(JSON.stringify(state), "utf8");
}
