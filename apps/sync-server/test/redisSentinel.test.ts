import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { codeText, readCode } from "@tandem/crdt-schema";
import { Redis } from "ioredis";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { startRedis, stopRedis } from "./support/privateRedis.ts";
import {
	api,
	createSession,
	databaseUrl,
	eventually,
	freePort,
	type RunningServer,
	registerUser,
	startTestServer,
	TEST_DATABASE_URL,
} from "./support/testServer.ts";

// Issue 13 step 5: REDIS_URL may name a Sentinel set; every Redis client of a node follows the primary it names.
const dbName = `tandem_sentinel_${Math.random().toString(36).slice(2, 10)}`;
const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
let primary: ChildProcess;
let sentinel: ChildProcess;
let primaryPort = 0;
const nodes: RunningServer[] = [];
const clients: CollabClient[] = [];

/** Debian's redis-server in Sentinel mode (what the redis-sentinel package runs), watching `primaryPort`. */
async function startSentinel(port: number, watched: number): Promise<ChildProcess> {
	const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-sentinel-"));
	const conf = path.join(dir, "sentinel.conf");
	// Sentinel rewrites its config file: it must be writable.
	writeFileSync(
		conf,
		`port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor tandemprimary 127.0.0.1 ${watched} 1\n`,
	);
	const child = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
	const failed = new Promise<never>((_, reject) =>
		child.once("exit", (code) => reject(new Error(`redis-server --sentinel exited with ${code}`))),
	);
	const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0 });
	probe.on("error", () => {});
	await Promise.race([
		eventually(async () => {
			const answer = await probe.call("SENTINEL", "get-master-addr-by-name", "tandemprimary").catch(() => null);
			return Array.isArray(answer) && answer[1] === String(watched);
		}, 100),
		failed,
	]);
	probe.disconnect();
	return child;
}

beforeAll(async () => {
	primaryPort = await freePort();
	primary = await startRedis(primaryPort);
	const sentinelPort = await freePort();
	sentinel = await startSentinel(sentinelPort, primaryPort);
	await admin.unsafe(`CREATE DATABASE "${dbName}"`);
	const env = {
		DATABASE_URL: databaseUrl(dbName),
		REDIS_URL: `redis-sentinel://127.0.0.1:${sentinelPort}/tandemprimary`,
		REDIS_PREFIX: dbName,
	};
	nodes.push(await startTestServer(env));
	nodes.push(await startTestServer(env));
}, 120_000);

afterAll(async () => {
	for (const c of clients) c.destroy();
	for (const n of nodes) await n.close();
	if (sentinel) await stopRedis(sentinel);
	if (primary) await stopRedis(primary);
	await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
	await admin.end();
});

describe("Redis through Sentinel (issue 13 step 5)", () => {
	it("two nodes given a redis-sentinel:// URL sync one session's clients through the primary the Sentinel names", async () => {
		const [a, b] = nodes as [RunningServer, RunningServer];
		const owner = await registerUser(a.url, "sentinelowner");
		const peer = await registerUser(b.url, "sentinelpeer");
		const session = await createSession(a.url, owner.token, { code: "sentinel\n" });
		await api(b.url, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, userId: peer.user.id },
		});

		const onA = await connectClient(a.wsUrl, session.id, owner.token);
		const onB = await connectClient(b.wsUrl, session.id, peer.token);
		clients.push(onA, onB);
		codeText(onA.doc).insert(0, "from A ");
		codeText(onB.doc).insert(0, "from B ");
		await eventually(() => readCode(onA.doc) === readCode(onB.doc) && readCode(onA.doc).length === 23);

		// The traffic went to the private primary (not the machine's Redis): the document's channel and the
		// throttles' keys are there.
		const direct = new Redis({ port: primaryPort, host: "127.0.0.1" });
		try {
			const channels = (await direct.pubsub("CHANNELS", `${dbName}:collab*`)) as string[];
			expect(channels.length).toBeGreaterThan(0);
			expect((await direct.keys(`${dbName}:throttle:*`)).length).toBeGreaterThan(0);
		} finally {
			direct.disconnect();
		}
	}, 60_000);
});
