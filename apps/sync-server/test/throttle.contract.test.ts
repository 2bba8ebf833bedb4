import net from "node:net";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { LoginThrottle, RedisThrottle, type Throttle, type ThrottleLimits } from "../src/auth/LoginThrottle.ts";
import { eventually, TEST_REDIS_URL } from "./support/testServer.ts";

// One suite, two stores (RELIABILITY 26, 29): this node's memory and Redis shared by all nodes.
const runPrefix = `tandem_throttle_${Math.random().toString(36).slice(2, 10)}`;
const inspect = new Redis(TEST_REDIS_URL);
const opened: RedisThrottle[] = [];
let n = 0;

afterAll(async () => {
	for (const t of opened) await t.close();
	const keys = await inspect.keys(`${runPrefix}*`);
	if (keys.length > 0) await inspect.del(...keys);
	inspect.disconnect();
});

function redisStore(limits: ThrottleLimits): RedisThrottle {
	// Falling back to memory here would let the suite pass without Redis: make it fail instead.
	const log = (line: Record<string, unknown>) => {
		throw new Error(`the redis store fell back to memory: ${JSON.stringify(line)}`);
	};
	const t = new RedisThrottle({ url: TEST_REDIS_URL, prefix: `${runPrefix}:${++n}:`, limits, log });
	opened.push(t);
	return t;
}

const stores: Array<[string, (limits: ThrottleLimits) => Throttle]> = [
	["memory", (limits) => new LoginThrottle(limits)],
	["redis", redisStore],
];

describe.each(stores)("throttle contract: %s", (_name, make) => {
	const minute = { perAccount: 3, perIp: 1000, windowMs: 60_000 };

	it("allows the limit of failures per account+IP, then asks to wait about one window", async () => {
		const t = make(minute);
		for (let i = 0; i < 3; i++) {
			expect(await t.check("Alice", "10.0.0.1")).toBe(0);
			await t.fail("Alice", "10.0.0.1");
		}
		const wait = await t.check("alice", "10.0.0.1");
		expect(wait).toBeGreaterThan(0);
		expect(wait).toBeLessThanOrEqual(60);
		expect(await t.peek("ALICE", "10.0.0.1")).toBeGreaterThan(0);
		// Another account, and the same account from another address, are unaffected.
		expect(await t.check("bob", "10.0.0.1")).toBe(0);
		expect(await t.check("alice", "10.0.0.2")).toBe(0);
	});

	it("a success clears the account's failures", async () => {
		const t = make(minute);
		for (let i = 0; i < 3; i++) await t.fail("carol", "10.0.0.1");
		expect(await t.peek("carol", "10.0.0.1")).toBeGreaterThan(0);
		await t.succeed("carol", "10.0.0.1");
		expect(await t.peek("carol", "10.0.0.1")).toBe(0);
		expect(await t.check("carol", "10.0.0.1")).toBe(0);
	});

	it("counts every attempt per IP (credential stuffing), without failures", async () => {
		const t = make({ perAccount: 3, perIp: 4, windowMs: 60_000 });
		for (let i = 0; i < 4; i++) expect(await t.check(`user${i}`, "10.0.0.9")).toBe(0);
		expect(await t.check("user9", "10.0.0.9")).toBeGreaterThan(0);
		expect(await t.check("user9", "10.0.0.8")).toBe(0);
	});

	it("peek counts nothing; an unlimited IP budget never blocks", async () => {
		const t = make({ perAccount: 2, perIp: Number.POSITIVE_INFINITY, windowMs: 60_000 });
		for (let i = 0; i < 5; i++) expect(await t.peek("dave", "10.0.0.1")).toBe(0);
		for (let i = 0; i < 5; i++) expect(await t.check(`u${i}`, "10.0.0.1")).toBe(0);
		await t.fail("dave", "10.0.0.1");
		expect(await t.peek("dave", "10.0.0.1")).toBe(0);
		await t.fail("dave", "10.0.0.1");
		expect(await t.peek("dave", "10.0.0.1")).toBeGreaterThan(0);
	});

	it("the window ends: the owner is locked out for at most one window", async () => {
		const t = make({ perAccount: 1, perIp: 1000, windowMs: 300 });
		await t.fail("erin", "10.0.0.1");
		expect(await t.check("erin", "10.0.0.1")).toBe(1);
		await eventually(async () => (await t.check("erin", "10.0.0.1")) === 0);
		await t.fail("erin", "10.0.0.1");
		expect(await t.peek("erin", "10.0.0.1")).toBe(1);
	});
});

describe("Redis store", () => {
	it("shares one budget between two nodes' throttles and gives every key a TTL", async () => {
		const prefix = `${runPrefix}:shared:`;
		const limits = { perAccount: 4, perIp: 1000, windowMs: 60_000 };
		const a = new RedisThrottle({ url: TEST_REDIS_URL, prefix, limits });
		const b = new RedisThrottle({ url: TEST_REDIS_URL, prefix, limits });
		opened.push(a, b);
		for (let i = 0; i < 4; i++) {
			const node = i % 2 === 0 ? a : b;
			expect(await node.check("frank", "10.0.0.1")).toBe(0);
			await node.fail("frank", "10.0.0.1");
		}
		expect(await a.check("frank", "10.0.0.1")).toBeGreaterThan(0);
		expect(await b.check("frank", "10.0.0.1")).toBeGreaterThan(0);
		const keys = await inspect.keys(`${prefix}*`);
		expect(keys.sort()).toEqual([`${prefix}a:frank|10.0.0.1`, `${prefix}i:10.0.0.1`]);
		for (const k of keys) {
			const ttl = await inspect.pttl(k);
			expect(ttl).toBeGreaterThan(0);
			expect(ttl).toBeLessThanOrEqual(60_000);
		}
	});

	it("counts on this node when Redis refuses or stalls, logging the switch once", async () => {
		// A listener that accepts and never answers (a stalled Redis), and a port nobody listens on.
		const stalled = net.createServer(() => {});
		const sockets: net.Socket[] = [];
		stalled.on("connection", (s) => sockets.push(s));
		await new Promise<void>((r) => stalled.listen(0, "127.0.0.1", r));
		const closedPort = await new Promise<number>((resolve) => {
			const s = net.createServer();
			s.listen(0, "127.0.0.1", () => {
				const port = (s.address() as net.AddressInfo).port;
				s.close(() => resolve(port));
			});
		});
		try {
			for (const port of [(stalled.address() as net.AddressInfo).port, closedPort]) {
				const lines: Array<Record<string, unknown>> = [];
				const t = new RedisThrottle({
					url: `redis://127.0.0.1:${port}`,
					prefix: `${runPrefix}:down:`,
					limits: { perAccount: 2, perIp: 1000, windowMs: 60_000 },
					commandTimeoutMs: 100,
					log: (line) => lines.push(line),
				});
				opened.push(t);
				expect(await t.check("gina", "10.0.0.1")).toBe(0);
				await t.fail("gina", "10.0.0.1");
				await t.fail("gina", "10.0.0.1");
				expect(await t.check("gina", "10.0.0.1")).toBeGreaterThan(0);
				await t.succeed("gina", "10.0.0.1");
				expect(await t.check("gina", "10.0.0.1")).toBe(0);
				expect(lines.map((l) => l.msg)).toEqual(["redis unavailable; throttles count on this node"]);
			}
		} finally {
			for (const s of sockets) s.destroy();
			await new Promise((r) => stalled.close(r));
		}
	});
});
