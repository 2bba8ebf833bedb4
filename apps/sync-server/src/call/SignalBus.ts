import { randomUUID } from "node:crypto";
import { createRedis } from "@tandem/run-queue";
import type { Redis } from "ioredis";

/**
 * One call signal on its way to other nodes: the document, the addressee (`to`, a peer id; null
 * for every joined peer), the sender's peer id (never delivered back to it) and the payload as
 * the addressee receives it.
 */
export interface SignalEnvelope {
	readonly documentName: string;
	readonly to: string | null;
	readonly from: string;
	readonly payload: string;
}

/** Carries call signals between nodes; each node delivers to its own joined peers. */
export interface SignalBus {
	/** Never throws: a signal that cannot be published is logged and lost (WebRTC retries). */
	publish(envelope: SignalEnvelope): void;
	close(): Promise<void>;
}

/**
 * Signals over Redis pub/sub on one channel (`{prefix}:call-signals`). Every node hears every
 * signal and hands it only to its own joined peers of that document (the addressee, when there
 * is one); call traffic is a few messages per second per call, so one channel is enough.
 * Signals no longer ride the Redis extension's stateless broadcast, which other nodes relay to
 * every connection of the document (RELIABILITY 47).
 */
export class RedisSignalBus implements SignalBus {
	private readonly pub: Redis;
	private readonly sub: Redis;
	private readonly channel: string;
	/** This node's id: it delivered its own signals locally already and skips them on the channel. */
	private readonly node = randomUUID();
	private loggedOutage = false;

	constructor(url: string, prefix: string, deliver: (envelope: SignalEnvelope) => void) {
		this.channel = `${prefix}:call-signals`;
		// A publish while Redis is down fails at once instead of queueing behind the reconnects.
		this.pub = createRedis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
		this.sub = createRedis(url, { maxRetriesPerRequest: null });
		for (const client of [this.pub, this.sub]) client.on("error", (e: unknown) => this.logOutage(e));
		this.pub.on("ready", () => {
			this.loggedOutage = false;
		});
		this.sub.on("message", (channel: string, message: string) => {
			if (channel !== this.channel) return;
			const envelope = parseEnvelope(message, this.node);
			if (envelope) deliver(envelope);
		});
		// ioredis re-subscribes by itself after a reconnect.
		this.sub.subscribe(this.channel).catch((e: unknown) => this.logOutage(e));
	}

	publish(envelope: SignalEnvelope): void {
		this.pub
			.publish(this.channel, JSON.stringify({ ...envelope, node: this.node }))
			.catch((e: unknown) => this.logOutage(e));
	}

	async close(): Promise<void> {
		for (const client of [this.pub, this.sub]) client.disconnect();
	}

	private logOutage(e: unknown): void {
		if (this.loggedOutage) return;
		this.loggedOutage = true;
		console.error(
			JSON.stringify({ level: "error", msg: "redis unavailable; call signals stay on this node", err: String(e) }),
		);
	}
}

function parseEnvelope(message: string, ownNode: string): SignalEnvelope | null {
	try {
		const e = JSON.parse(message) as Partial<SignalEnvelope> & { node?: unknown };
		if (e.node === ownNode) return null;
		if (typeof e.documentName !== "string" || typeof e.from !== "string" || typeof e.payload !== "string") return null;
		if (e.to !== null && typeof e.to !== "string") return null;
		return { documentName: e.documentName, to: e.to, from: e.from, payload: e.payload };
	} catch {
		return null;
	}
}
