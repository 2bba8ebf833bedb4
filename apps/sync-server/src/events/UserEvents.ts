import { createRedis } from "@tandem/run-queue";
import type { Redis } from "ioredis";

/** What a user is told about, live (GET /events). Notifications only: GET /sessions stays the truth. */
export type UserEvent =
	| {
			readonly type: "session.created";
			readonly session: {
				readonly id: string;
				readonly title: string;
				readonly language: string;
				readonly role: "owner";
			};
	  }
	| {
			readonly type: "session.invited";
			readonly by: { readonly id: string; readonly username: string };
			readonly session: {
				readonly id: string;
				readonly title: string;
				readonly language: string;
				readonly role: "interviewer" | "editor" | "viewer";
			};
	  };

export type UserEventListener = (event: UserEvent) => void;

/** Per-user events: in-process, or across nodes over Redis pub/sub. */
export interface UserEventBus {
	/** Never throws: a notification that cannot be sent is logged (the database write already happened). */
	publish(userId: string, event: UserEvent): Promise<void>;
	subscribe(userId: string, listener: UserEventListener): () => void;
	/** Resolves once events published anywhere reach this node's subscribers. */
	ready(): Promise<void>;
	close(): Promise<void>;
}

/** How long startup waits for the Redis subscription. */
const READY_WAIT_MS = 2000;

function log(fields: Record<string, unknown>): void {
	console.error(JSON.stringify({ time: new Date().toISOString(), level: "error", ...fields }));
}

/** The listeners of this node, by user. */
class LocalListeners {
	private readonly byUser = new Map<string, Set<UserEventListener>>();

	add(userId: string, listener: UserEventListener): () => void {
		let set = this.byUser.get(userId);
		if (!set) this.byUser.set(userId, (set = new Set()));
		set.add(listener);
		return () => {
			set.delete(listener);
			if (set.size === 0 && this.byUser.get(userId) === set) this.byUser.delete(userId);
		};
	}

	deliver(userId: string, event: UserEvent): void {
		for (const listener of this.byUser.get(userId) ?? []) {
			try {
				listener(event);
			} catch (e: unknown) {
				log({ msg: "user event listener failed", err: String(e) });
			}
		}
	}
}

export class InProcessUserEventBus implements UserEventBus {
	private readonly listeners = new LocalListeners();

	async publish(userId: string, event: UserEvent): Promise<void> {
		this.listeners.deliver(userId, event);
	}

	subscribe(userId: string, listener: UserEventListener): () => void {
		return this.listeners.add(userId, listener);
	}

	async ready(): Promise<void> {}

	async close(): Promise<void> {}
}

/** One channel for all users: every node hears every event and hands it to its own listeners. */
export class RedisUserEventBus implements UserEventBus {
	private readonly listeners = new LocalListeners();
	private readonly pub: Redis;
	private readonly sub: Redis;
	private readonly channel: string;
	private readonly subscribed: Promise<void>;
	private loggedOutage = false;

	constructor(url: string, prefix: string) {
		this.channel = `${prefix}:user-events`;
		// A publish while Redis is down fails at once instead of queueing behind the reconnects.
		this.pub = createRedis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
		this.sub = createRedis(url, { maxRetriesPerRequest: null });
		for (const client of [this.pub, this.sub]) client.on("error", (e: unknown) => this.logOutage(e));
		this.pub.on("ready", () => {
			this.loggedOutage = false;
		});
		this.sub.on("message", (channel: string, message: string) => {
			if (channel !== this.channel) return;
			let parsed: { userId?: unknown; event?: UserEvent };
			try {
				parsed = JSON.parse(message);
			} catch {
				return;
			}
			if (typeof parsed.userId === "string" && parsed.event) this.listeners.deliver(parsed.userId, parsed.event);
		});
		// ioredis re-subscribes by itself after a reconnect.
		this.subscribed = this.sub.subscribe(this.channel).then(
			() => {},
			(e: unknown) => this.logOutage(e),
		);
	}

	async publish(userId: string, event: UserEvent): Promise<void> {
		try {
			await this.pub.publish(this.channel, JSON.stringify({ userId, event }));
		} catch (e: unknown) {
			// This node's own streams still hear it.
			log({ msg: "user event not published", type: event.type, err: String(e) });
			this.listeners.deliver(userId, event);
		}
	}

	subscribe(userId: string, listener: UserEventListener): () => void {
		return this.listeners.add(userId, listener);
	}

	/** Bounded: a node that starts while Redis is down serves anyway and subscribes when it returns. */
	async ready(): Promise<void> {
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([this.subscribed, new Promise((r) => (timer = setTimeout(r, READY_WAIT_MS)))]);
		clearTimeout(timer);
	}

	async close(): Promise<void> {
		for (const client of [this.pub, this.sub]) client.disconnect();
	}

	private logOutage(e: unknown): void {
		if (this.loggedOutage) return;
		this.loggedOutage = true;
		log({ msg: "redis unavailable; live notifications stay on this node", err: String(e) });
	}
}

export function createUserEventBus(redis: { url: string | undefined; prefix: string }): UserEventBus {
	return redis.url ? new RedisUserEventBus(redis.url, redis.prefix) : new InProcessUserEventBus();
}
