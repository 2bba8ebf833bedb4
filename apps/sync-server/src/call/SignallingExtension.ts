import { randomUUID } from "node:crypto";
import type { Connection, Extension, onDisconnectPayload, onStatelessPayload } from "@hocuspocus/server";
import { SignalFlood, SignalTooLarge } from "../collab/closeEvents.ts";
import { type IceConfig, iceServersFor, readIceConfig } from "./iceConfig.ts";
import { RedisSignalBus, type SignalBus, type SignalEnvelope } from "./SignalBus.ts";
import {
	CALL_MESSAGE_TYPE,
	type ClientSignal,
	clientSignal,
	type ForwardedSignal,
	type ServerReply,
	type SignalErrorCode,
	type SignalSender,
} from "./signals.ts";
import { TokenBucket } from "./TokenBucket.ts";

/** Close events for call signalling, kept with the other close codes. */
export { SignalFlood, SignalTooLarge };

/** The authenticated user behind a connection, as the auth extension put it in the context. */
export interface CallIdentity {
	userId: string;
	name: string;
}

export interface SignallingOptions {
	/** Reads the authenticated user from the Hocuspocus connection context. */
	identify?: (context: unknown) => CallIdentity | null;
	ice?: IceConfig;
	maxMessageBytes?: number;
	burst?: number;
	refillPerSecond?: number;
	now?: () => number;
	/** With several nodes: Redis carries signals to peers on other nodes. */
	redis?: { url: string; prefix: string };
}

// An audio+video offer is 5–10 KiB; 64 KiB is several times that and far below the socket's frame cap.
export const MAX_SIGNAL_BYTES = 64 * 1024;
// Joining a 6-person mesh sends to 5 peers: per peer an offer, an answer and ~10–20 trickled candidates,
// so a join burst is ~100 messages; steady state is a few per second (renegotiation, mute state).
export const SIGNAL_BURST = 200;
export const SIGNAL_REFILL_PER_SECOND = 20;

interface PeerState {
	peer: string;
	documentName: string;
	connection: Connection;
	bucket: TokenBucket;
	joined: boolean;
	// Drops in a row: one error reply per streak (no amplification), and a close when it keeps on.
	dropStreak: number;
}

/** Reads `{user: {id, username | name}}` or `{userId, username | name}` from a connection context. */
export function identifyFromContext(context: unknown): CallIdentity | null {
	if (typeof context !== "object" || context === null) return null;
	const c = context as Record<string, unknown>;
	const user = (typeof c.user === "object" && c.user !== null ? c.user : c) as Record<string, unknown>;
	const userId = user.id ?? user.userId ?? c.userId;
	const name = user.username ?? user.name ?? c.username;
	if (typeof userId !== "string" && typeof userId !== "number") return null;
	return { userId: String(userId), name: typeof name === "string" ? name : String(userId) };
}

/**
 * WebRTC signalling for calls over the session's own Hocuspocus connection.
 *
 * Hocuspocus only runs onStateless for connections authenticated for the
 * document, and only delivers a document's stateless messages to such
 * connections, so non-participants can neither send nor receive. This
 * extension validates each call message, caps its size and rate per
 * connection, stamps the sender's authenticated identity and a server-minted
 * peer id, and delivers it only to peers who joined the call (RELIABILITY 47):
 * a message with `to` to that peer alone, the others (join, state, leave) to
 * every other joined peer of the document. Participants who have not joined
 * hear nothing. Across nodes it goes through its own Redis channel (SignalBus),
 * and each node delivers to its own joined peers by the same rule.
 */
export class SignallingExtension implements Extension {
	readonly extensionName = "call-signalling";
	// Before the auth extensions' onStateless hooks would matter, after auth itself (which is not a stateless hook).
	priority = 100;

	private readonly peers = new Map<string, PeerState>();
	/** Joined peers by document, then by peer id: the only possible addressees. */
	private readonly joined = new Map<string, Map<string, PeerState>>();
	private readonly bus: SignalBus | null;
	private readonly identify: (context: unknown) => CallIdentity | null;
	private readonly ice: IceConfig;
	private readonly maxMessageBytes: number;
	private readonly burst: number;
	private readonly refillPerSecond: number;
	private readonly now: () => number;

	constructor(options: SignallingOptions = {}) {
		this.identify = options.identify ?? identifyFromContext;
		this.ice = options.ice ?? readIceConfig();
		this.maxMessageBytes = options.maxMessageBytes ?? MAX_SIGNAL_BYTES;
		this.burst = options.burst ?? SIGNAL_BURST;
		this.refillPerSecond = options.refillPerSecond ?? SIGNAL_REFILL_PER_SECOND;
		this.now = options.now ?? Date.now;
		this.bus = options.redis
			? new RedisSignalBus(options.redis.url, options.redis.prefix, (envelope) => this.deliverLocally(envelope))
			: null;
	}

	/** Connections with call state (a peer id and a rate bucket); dropped on disconnect. */
	get peerCount(): number {
		return this.peers.size;
	}

	async onStateless({ connection, documentName, payload }: onStatelessPayload): Promise<void> {
		if (!isCallPayload(payload)) return;
		const key = peerKey(documentName, connection.socketId);
		let state = this.peers.get(key);
		if (!state) {
			state = {
				peer: randomUUID(),
				documentName,
				connection,
				bucket: new TokenBucket(this.burst, this.refillPerSecond, this.now),
				joined: false,
				dropStreak: 0,
			};
			this.peers.set(key, state);
		}

		if (Buffer.byteLength(payload, "utf8") > this.maxMessageBytes) {
			reply(connection, error("too_large", `Call signal larger than ${this.maxMessageBytes} bytes`));
			connection.close(SignalTooLarge);
			return;
		}
		if (!state.bucket.take()) {
			state.dropStreak += 1;
			if (state.dropStreak === 1) reply(connection, error("rate_limited", "Too many call signals; slow down"));
			// A client that keeps sending after a full bucket's worth of drops is not a browser retrying.
			if (state.dropStreak > this.burst) connection.close(SignalFlood);
			return;
		}
		state.dropStreak = 0;

		const signal = parseSignal(payload);
		if (!signal) {
			reply(connection, error("invalid", "Malformed call signal"));
			return;
		}
		const identity = this.identify(connection.context);
		if (!identity) {
			reply(connection, error("invalid", "Connection has no authenticated user"));
			return;
		}

		if (signal.kind === "join") {
			this.setJoined(state, true);
			const welcome: ServerReply = {
				type: CALL_MESSAGE_TYPE,
				kind: "welcome",
				peer: state.peer,
				iceServers: iceServersFor(this.ice, identity.userId, this.now()),
			};
			reply(connection, welcome);
		} else if (!state.joined) {
			reply(connection, error("not_joined", "Join the call before signalling"));
			return;
		}
		if (signal.kind === "leave") this.setJoined(state, false);

		const from: SignalSender = { peer: state.peer, userId: identity.userId, name: identity.name };
		const forwarded: ForwardedSignal = { ...signal, from };
		this.send({
			documentName,
			to: "to" in signal ? signal.to : null,
			from: state.peer,
			payload: JSON.stringify(forwarded),
		});
	}

	async onDisconnect({ documentName, socketId, context }: onDisconnectPayload): Promise<void> {
		const key = peerKey(documentName, socketId);
		const state = this.peers.get(key);
		this.peers.delete(key);
		if (!state?.joined) return;
		this.setJoined(state, false);
		const identity = this.identify(context);
		const leave: ForwardedSignal = {
			type: CALL_MESSAGE_TYPE,
			kind: "leave",
			from: { peer: state.peer, userId: identity?.userId ?? "", name: identity?.name ?? "" },
		};
		this.send({ documentName, to: null, from: state.peer, payload: JSON.stringify(leave) });
	}

	async onDestroy(): Promise<void> {
		await this.bus?.close();
	}

	private setJoined(state: PeerState, joined: boolean): void {
		state.joined = joined;
		let peers = this.joined.get(state.documentName);
		if (joined) {
			if (!peers) this.joined.set(state.documentName, (peers = new Map()));
			peers.set(state.peer, state);
		} else if (peers) {
			peers.delete(state.peer);
			if (peers.size === 0) this.joined.delete(state.documentName);
		}
	}

	/** To this node's joined addressees, and to other nodes' unless the addressee was here. */
	private send(envelope: SignalEnvelope): void {
		const delivered = this.deliverLocally(envelope);
		if (this.bus && !(envelope.to !== null && delivered)) this.bus.publish(envelope);
	}

	/** Hand a signal to this node's joined peers of its document; true when the addressee is here. */
	private deliverLocally({ documentName, to, from, payload }: SignalEnvelope): boolean {
		const peers = this.joined.get(documentName);
		if (!peers) return false;
		if (to !== null) {
			const target = peers.get(to);
			if (!target || target.peer === from) return false;
			target.connection.sendStateless(payload);
			return true;
		}
		for (const peer of peers.values()) if (peer.peer !== from) peer.connection.sendStateless(payload);
		return false;
	}
}

function peerKey(documentName: string, socketId: string): string {
	return `${documentName}\0${socketId}`;
}

// Cheap pre-check so other features' stateless messages pass through untouched.
function isCallPayload(payload: string): boolean {
	return /^\s*\{\s*"type"\s*:\s*"call"/.test(payload.slice(0, 64));
}

function parseSignal(payload: string): ClientSignal | null {
	let json: unknown;
	try {
		json = JSON.parse(payload);
	} catch {
		return null;
	}
	const result = clientSignal.safeParse(json);
	return result.success ? result.data : null;
}

function error(code: SignalErrorCode, message: string): ServerReply {
	return { type: CALL_MESSAGE_TYPE, kind: "error", code, message };
}

function reply(connection: Connection, message: ServerReply): void {
	connection.sendStateless(JSON.stringify(message));
}
