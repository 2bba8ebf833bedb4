import net from "node:net";

/** Where a new connection goes: a port, or null to refuse it. */
export type ProxyTarget = () => number | null | Promise<number | null>;

/**
 * A TCP proxy between clients and servers for network fault tests (RELIABILITY 36) and as a
 * small load balancer (RELIABILITY 31, 32): each accepted connection is piped to the port
 * `target()` names when it arrives.
 */
export interface TcpProxy {
	readonly port: number;
	readonly wsUrl: string;
	/** Connections currently piped. */
	readonly open: number;
	/** Delay every chunk by `latencyMs` plus up to `jitterMs` (order kept). */
	setLatency(latencyMs: number, jitterMs?: number): void;
	/** Stop forwarding both ways on every open connection without closing either side (half-open). */
	stall(): void;
	/** Forward what was held and carry on. */
	resume(): void;
	/** Destroy every open connection on both sides. */
	cut(): void;
	/** While down, new connections are refused at once (the network is unreachable). */
	setDown(down: boolean): void;
	close(): Promise<void>;
}

type Item = Buffer | "end" | "close";

interface Direction {
	readonly to: net.Socket;
	readonly queue: Item[];
	dueAt: number;
	/** Tear down both sides (a reset or a closed peer, delivered in order after its data). */
	readonly destroy: () => void;
}

interface Pair {
	readonly client: net.Socket;
	readonly server: net.Socket;
	readonly up: Direction;
	readonly down: Direction;
}

export async function startTcpProxy(target: ProxyTarget): Promise<TcpProxy> {
	let latencyMs = 0;
	let jitterMs = 0;
	let stalled = false;
	let down = false;
	const pairs = new Set<Pair>();
	const accepted = new Set<net.Socket>();

	const deliver = (dir: Direction, item: Item) => {
		if (item === "close") dir.destroy();
		else if (dir.to.destroyed) return;
		else if (item === "end") dir.to.end();
		else dir.to.write(item);
	};
	const schedule = (dir: Direction, item: Item) => {
		if (stalled) {
			dir.queue.push(item);
			return;
		}
		if (latencyMs === 0 && jitterMs === 0 && dir.queue.length === 0) {
			deliver(dir, item);
			return;
		}
		// Later chunks never overtake earlier ones: TCP keeps order whatever the delay.
		dir.dueAt = Math.max(dir.dueAt, Date.now() + latencyMs + Math.random() * jitterMs);
		dir.queue.push(item);
		setTimeout(() => {
			if (stalled) return;
			const next = dir.queue.shift();
			if (next !== undefined) deliver(dir, next);
		}, dir.dueAt - Date.now());
	};
	const flush = (dir: Direction) => {
		for (const item of dir.queue.splice(0)) deliver(dir, item);
	};
	const destroy = (pair: Pair) => {
		pairs.delete(pair);
		pair.client.destroy();
		pair.server.destroy();
	};

	const server = net.createServer(async (client) => {
		client.on("error", () => {});
		accepted.add(client);
		client.once("close", () => accepted.delete(client));
		client.pause();
		const port = down ? null : await Promise.resolve(target()).catch(() => null);
		if (port === null || down || client.destroyed) {
			client.destroy();
			return;
		}
		const upstream = net.connect(port, "127.0.0.1");
		upstream.on("error", () => {});
		const teardown = () => destroy(pair);
		const pair: Pair = {
			client,
			server: upstream,
			up: { to: upstream, queue: [], dueAt: 0, destroy: teardown },
			down: { to: client, queue: [], dueAt: 0, destroy: teardown },
		};
		pairs.add(pair);
		client.on("data", (chunk: Buffer) => schedule(pair.up, chunk));
		upstream.on("data", (chunk: Buffer) => schedule(pair.down, chunk));
		client.on("end", () => schedule(pair.up, "end"));
		upstream.on("end", () => schedule(pair.down, "end"));
		// A closed or refused side reaches the other one after its data, unless the network is stalled.
		client.on("close", () => schedule(pair.up, "close"));
		upstream.on("close", () => schedule(pair.down, "close"));
		client.resume();
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const address = server.address();
	if (!address || typeof address === "string") throw new Error("no proxy address");

	return {
		port: address.port,
		wsUrl: `ws://127.0.0.1:${address.port}/collab`,
		get open() {
			return pairs.size;
		},
		setLatency(latency, jitter = 0) {
			latencyMs = latency;
			jitterMs = jitter;
		},
		stall() {
			stalled = true;
		},
		resume() {
			stalled = false;
			for (const pair of [...pairs]) {
				flush(pair.up);
				flush(pair.down);
			}
		},
		cut() {
			for (const pair of [...pairs]) destroy(pair);
		},
		setDown(value) {
			down = value;
		},
		async close() {
			down = true;
			for (const pair of [...pairs]) destroy(pair);
			for (const socket of accepted) socket.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
