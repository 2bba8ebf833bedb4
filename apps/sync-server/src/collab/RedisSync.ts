import { SkipFurtherHooksError } from "@hocuspocus/common";
import { type Configuration, Redis } from "@hocuspocus/extension-redis";
import {
	type afterLoadDocumentPayload,
	type afterUnloadDocumentPayload,
	type Document,
	isTransactionOrigin,
	type onChangePayload,
	type onStoreDocumentPayload,
} from "@hocuspocus/server";
import { redisOptionsFromUrl } from "@tandem/run-queue";

// Redlock with retryCount 0 fails at once while another node holds the lock; the holder's store
// takes well under the lock's lifetime, so a few waits of one lifetime each see it released.
const LOCK_ATTEMPTS = 3;
// After a reconnect ioredis re-subscribes asynchronously; a second announcement a moment later
// reaches peers whose subscriptions came back after the first one.
const RESYNC_REPEAT_MS = 1000;

/**
 * The Hocuspocus Redis extension with two changes for nodes that lose Redis (RELIABILITY 33):
 *
 * - A store never gives up. Upstream, a lock it cannot take (held elsewhere, or Redis down)
 *   throws SkipFurtherHooksError, and Hocuspocus then unloads the document without storing
 *   it: edits made on this node while Redis is down would be lost. Here the store waits for
 *   the lock a few times and then stores without it, which is safe because stores merge into
 *   the stored state (the lock only saves duplicate work).
 * - A document opened while Redis is down loads at once (upstream waits for a subscription that
 *   cannot happen, and the load fails after ioredis gives up); it subscribes when Redis returns.
 * - When Redis comes back, every open document announces its state vector (sync step 1), so
 *   peers answer with what this node lacks and ask for what they lack: nodes that edited
 *   apart converge even if nobody types again.
 * - An update that arrived from a peer is stored here too (debounced like local edits) while
 *   this node has clients on the document. Upstream never stores those, so an edit whose node
 *   was SIGKILLed inside its debounce lived on only in other nodes' memory and was unloaded
 *   from there unstored (RELIABILITY 23).
 */
export class RedisSync extends Redis {
	private lostRedis = false;
	/** Documents loaded while Redis was down, not yet subscribed to their channel. */
	private readonly unsubscribed = new Set<string>();

	constructor(configuration: Partial<Configuration>) {
		super(configuration);
		this.pub.on("close", () => this.markLost());
		// ioredis reconnects on its own; without a listener each failed attempt is an "Unhandled error event".
		for (const client of [this.pub, this.sub]) client.on("error", (e: unknown) => this.logRedisError(e));
		this.sub.on("ready", () => {
			if (!this.lostRedis) return;
			this.lostRedis = false;
			this.loggedOutage = false;
			this.subscribeDeferred();
			this.resyncAll();
			setTimeout(() => this.resyncAll(), RESYNC_REPEAT_MS).unref();
		});
	}

	private markLost(): void {
		this.lostRedis = true;
	}

	private loggedOutage = false;
	private logRedisError(e: unknown): void {
		// One line per outage, not one per reconnect attempt.
		if (this.loggedOutage && this.lostRedis) return;
		this.loggedOutage = true;
		console.error(
			JSON.stringify({ level: "error", msg: "redis unavailable; editing continues on this node", err: String(e) }),
		);
	}

	override async afterLoadDocument(payload: afterLoadDocumentPayload): Promise<void> {
		if (this.sub.status === "ready") return super.afterLoadDocument(payload);
		this.unsubscribed.add(payload.documentName);
	}

	override async afterUnloadDocument(payload: afterUnloadDocumentPayload): Promise<void> {
		if (!payload.instance.documents.has(payload.documentName)) this.unsubscribed.delete(payload.documentName);
		return super.afterUnloadDocument(payload);
	}

	private subscribeDeferred(): void {
		for (const name of this.unsubscribed) {
			this.unsubscribed.delete(name);
			if (!this.instance?.documents.has(name)) continue;
			// The channel name upstream's (TS-private) subKey() gives a document.
			this.sub.subscribe(`${this.configuration.prefix}:${name}`).catch((e: unknown) => {
				this.unsubscribed.add(name);
				console.error(JSON.stringify({ level: "warn", msg: "redis subscribe failed", name, err: String(e) }));
			});
		}
	}

	/** Publish sync step 1 of every open document (upstream's own publisher, TS-private there). */
	resyncAll(): void {
		if (!this.instance) return;
		const publisher = this as unknown as {
			publishFirstSyncStep(name: string, document: Document): Promise<unknown>;
		};
		for (const [name, document] of this.instance.documents) {
			publisher.publishFirstSyncStep(name, document).catch((e: unknown) => {
				console.error(JSON.stringify({ level: "warn", msg: "redis resync publish failed", name, err: String(e) }));
			});
		}
	}

	override async onChange(payload: onChangePayload): Promise<void> {
		const origin = payload.transactionOrigin;
		if (!isTransactionOrigin(origin) || origin.source !== "redis") return super.onChange(payload);
		const { instance, document, documentName } = payload;
		// Only where someone is connected: a node whose last client left (or that is draining)
		// must be free to unload, and the nodes with clients store the peer's edits.
		if (instance.documents.get(documentName) !== document || document.getConnectionsCount() === 0) return;
		void instance.storeDocumentHooks(document, {
			instance,
			clientsCount: document.getConnectionsCount(),
			document,
			documentName,
			lastContext: {},
			lastTransactionOrigin: origin,
		});
	}

	override async onStoreDocument(payload: onStoreDocumentPayload): Promise<void> {
		for (let attempt = 1; attempt <= LOCK_ATTEMPTS; attempt++) {
			// While Redis is unreachable the lock command would sit in ioredis's offline queue.
			if (this.pub.status !== "ready") break;
			try {
				await super.onStoreDocument(payload);
				return;
			} catch (e: unknown) {
				if (!(e instanceof SkipFurtherHooksError)) break;
				if (attempt < LOCK_ATTEMPTS) await new Promise((r) => setTimeout(r, this.configuration.lockTimeout));
			}
		}
		console.error(
			JSON.stringify({
				level: "warn",
				msg: "storing without the redis lock",
				documentName: payload.documentName,
				redis: this.pub.status,
			}),
		);
	}
}

/** Extension options from a redis://, rediss:// or redis-sentinel:// URL (redisOptionsFromUrl). */
export function redisSyncConfig(url: string, prefix: string): Partial<Configuration> {
	// One parser for every Redis client (redisOptionsFromUrl): a Sentinel URL gives `sentinels` + `name`,
	// and ioredis then ignores host and port and follows the primary across failovers.
	const { host, port, ...options } = redisOptionsFromUrl(url);
	return {
		host: host ?? "127.0.0.1",
		port: port ?? 6379,
		prefix: `${prefix}:collab`,
		options: {
			...options,
			// During an outage commands wait for the reconnect instead of failing after 20 retries:
			// upstream sends some without awaiting them, and those rejections would be unhandled.
			maxRetriesPerRequest: null,
		},
	};
}
