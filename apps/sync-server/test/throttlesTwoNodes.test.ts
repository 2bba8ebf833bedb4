import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, stopRedis } from "./support/privateRedis.ts";
import {
	api,
	databaseUrl,
	eventually,
	freePort,
	type RunningServer,
	registerUser,
	startTestServer,
	TEST_DATABASE_URL,
} from "./support/testServer.ts";

// RELIABILITY 26, 29 behind a load balancer: two nodes over one Postgres and one (private) Redis
// count into one budget; with Redis stopped (RELIABILITY 33) each node still answers and throttles.
const dbName = `tandem_throttles_${Math.random().toString(36).slice(2, 10)}`;
const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
const GUESSES = 6;
let redis: ChildProcess | undefined;
let redisPort = 0;
let a: RunningServer;
let b: RunningServer;

const login = (node: RunningServer, username: string, password: string) =>
	api(node.url, "POST", "/login", { body: { username, password } });

beforeAll(async () => {
	redisPort = await freePort();
	redis = await startRedis(redisPort);
	await admin.unsafe(`CREATE DATABASE "${dbName}"`);
	const env = { DATABASE_URL: databaseUrl(dbName), REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_PREFIX: dbName };
	const deps = { guessThrottle: { perAccount: GUESSES, perIp: Number.POSITIVE_INFINITY, windowMs: 60_000 } };
	a = await startTestServer(env, deps);
	b = await startTestServer(env, deps);
}, 240_000);

afterAll(async () => {
	await a?.close();
	await b?.close();
	if (redis) await stopRedis(redis);
	await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
	await admin.end();
}, 240_000);

describe("throttles shared by two nodes through Redis", () => {
	it("wrong passwords alternated between the nodes reach 429 at the single limit; success clears them", async () => {
		const victim = await registerUser(a.url, "victim");
		const name = victim.user.username;
		const statuses: number[] = [];
		for (let i = 0; i < 11; i++) statuses.push((await login(i % 2 === 0 ? a : b, name, "wrong password")).status);
		expect(statuses).toEqual([...Array(10).fill(401), 429]);
		const onB = await login(b, name, "wrong password");
		expect(onB.status).toBe(429);
		expect(Number(onB.headers.get("retry-after"))).toBeGreaterThan(0);
		expect(onB.body.error.message).toBe("Too many login attempts; try again later");

		// Unknown user and wrong password answer alike.
		const other = await registerUser(b.url, "other");
		const wrong = await login(a, other.user.username, "wrong password");
		const unknown = await login(b, `nobody${Date.now()}`, "wrong password");
		expect([wrong.status, unknown.status]).toEqual([401, 401]);
		expect(unknown.body).toEqual(wrong.body);

		// A success on one node clears the failures counted on the other.
		for (let i = 0; i < 8; i++) expect((await login(b, other.user.username, "wrong password")).status).toBe(401);
		expect((await login(a, other.user.username, other.password)).status).toBe(200);
		for (let i = 0; i < 10; i++) expect((await login(b, other.user.username, "wrong password")).status).toBe(401);
		expect((await login(a, other.user.username, "wrong password")).status).toBe(429);
	}, 60_000);

	it("session-id guesses alternated between the nodes reach 429 at the single limit", async () => {
		const guesser = await registerUser(a.url, "guesser");
		const statuses: number[] = [];
		for (let i = 0; i <= GUESSES; i++) {
			const node = i % 2 === 0 ? a : b;
			const id = `${crypto.randomUUID()}`;
			statuses.push((await api(node.url, "GET", `/session/${id}`, { token: guesser.token })).status);
		}
		expect(statuses).toEqual([...Array(GUESSES).fill(404), 429]);
		const again = await api(a.url, "GET", `/session/${crypto.randomUUID()}`, { token: guesser.token });
		expect(again.status).toBe(429);
		expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(0);
	}, 60_000);

	it("with Redis stopped, login still answers 200/401 and each node throttles on its own", async () => {
		const user = await registerUser(a.url, "outage");
		const name = user.user.username;
		await stopRedis(redis as ChildProcess);
		expect((await login(a, name, user.password)).status).toBe(200);
		expect((await login(b, name, user.password)).status).toBe(200);
		// Node A counts its own failures: its eleventh attempt is refused, node B still checks passwords.
		const onA: number[] = [];
		for (let i = 0; i < 11; i++) onA.push((await login(a, name, "wrong password")).status);
		expect(onA).toEqual([...Array(10).fill(401), 429]);
		expect((await login(b, name, "wrong password")).status).toBe(401);
		expect((await login(b, name, user.password)).status).toBe(200);
		// Session lookups answer too (404, not 500).
		expect((await api(b.url, "GET", `/session/${crypto.randomUUID()}`, { token: user.token })).status).toBe(404);

		// Redis returns (empty: the private one keeps nothing): once both nodes count there again,
		// alternated failures reach 429 at the single limit again.
		redis = await startRedis(redisPort);
		const inspect = new Redis(`redis://127.0.0.1:${redisPort}`);
		try {
			for (const node of [a, b]) {
				await eventually(async () => {
					const probe = `probe${Math.random().toString(36).slice(2, 10)}`;
					await login(node, probe, "wrong password");
					// Keyed per account (RELIABILITY 50): a name that is no account counts as itself.
					return (await inspect.keys(`${dbName}:throttle:login:*${probe}*`)).length > 0;
				}, 200);
			}
		} finally {
			inspect.disconnect();
		}
		const again = await registerUser(a.url, "again");
		const alternated: number[] = [];
		for (let i = 0; i < 11; i++) {
			alternated.push((await login(i % 2 === 0 ? b : a, again.user.username, "wrong password")).status);
		}
		expect(alternated).toEqual([...Array(10).fill(401), 429]);
	}, 60_000);
});
