import type { ChildProcess } from "node:child_process";
import { codeText, readCode } from "@tandem/crdt-schema";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { startRedis, stopRedis } from "./support/privateRedis.ts";
import {
	createSession,
	databaseUrl,
	eventually,
	freePort,
	type RunningServer,
	registerUser,
	startTestServer,
	TEST_DATABASE_URL,
} from "./support/testServer.ts";

// RELIABILITY 33, shortened: a private Redis is killed for ~12 s (not a minute) and restarted.
const OUTAGE_MS = 12_000;

const dbName = `tandem_redis_outage_${Math.random().toString(36).slice(2, 10)}`;
const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
const clients: CollabClient[] = [];
let redisPort = 0;
let redis: ChildProcess | undefined;
let a: RunningServer;
let b: RunningServer;

async function storedCode(node: RunningServer, sessionId: string): Promise<string> {
	const state = await node.server.ctx.store.loadDocument(sessionId);
	const doc = new Y.Doc();
	if (state) Y.applyUpdate(doc, state);
	return readCode(doc);
}

function type(client: CollabClient, text: string): void {
	const code = codeText(client.doc);
	code.insert(code.length, text);
}

beforeAll(async () => {
	redisPort = await freePort();
	redis = await startRedis(redisPort);
	await admin.unsafe(`CREATE DATABASE "${dbName}"`);
	const env = {
		DATABASE_URL: databaseUrl(dbName),
		REDIS_URL: `redis://127.0.0.1:${redisPort}`,
		REDIS_PREFIX: dbName,
		PERSIST_DEBOUNCE_MS: "200",
		PERSIST_MAX_DEBOUNCE_MS: "1000",
	};
	a = await startTestServer(env);
	b = await startTestServer(env);
}, 240_000);

afterAll(async () => {
	for (const c of clients) c.destroy();
	await a?.close();
	await b?.close();
	if (redis) await stopRedis(redis);
	await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
	await admin.end();
}, 240_000);

describe("Redis down on a two-node cluster (RELIABILITY 33)", () => {
	it("keeps each node editing, converges after Redis returns without further typing, and stores before unloading", async () => {
		const owner = await registerUser(a.url, "outage");
		const shared = (await createSession(a.url, owner.token, { code: "start\n" })).id;
		const onlyB = (await createSession(b.url, owner.token, { code: "b only\n" })).id;

		const a1 = await connectClient(a.wsUrl, shared, owner.token);
		const b1 = await connectClient(b.wsUrl, shared, owner.token);
		const lonely = await connectClient(b.wsUrl, onlyB, owner.token);
		clients.push(a1, b1);
		type(a1, "[before]");
		await eventually(() => readCode(b1.doc).includes("[before]"));

		const outageStart = Date.now();
		await stopRedis(redis as ChildProcess);

		// Each node keeps serving its own clients: edits flow between clients of one node.
		type(a1, "[a-down]");
		type(b1, "[b-down]");
		const a2 = await connectClient(a.wsUrl, shared, owner.token);
		const b2 = await connectClient(b.wsUrl, shared, owner.token);
		clients.push(a2, b2);
		await eventually(() => readCode(a2.doc).includes("[a-down]"));
		await eventually(() => readCode(b2.doc).includes("[b-down]"));
		type(a2, "[a2-down]");
		await eventually(() => readCode(a1.doc).includes("[a2-down]"));

		// A document whose last client leaves while Redis is down is stored before it is unloaded.
		type(lonely, "[lonely-down]");
		lonely.destroy();
		await eventually(() => !b.server.hocuspocus.documents.has(onlyB), 100);
		expect(await storedCode(b, onlyB)).toBe("b only\n[lonely-down]");

		// A document first opened while Redis is down loads and serves edits.
		const fresh = (await createSession(a.url, owner.token, { code: "" })).id;
		const fa = await connectClient(a.wsUrl, fresh, owner.token);
		clients.push(fa);
		type(fa, "[fresh-down]");

		await new Promise((r) => setTimeout(r, Math.max(0, outageStart + OUTAGE_MS - Date.now())));
		redis = await startRedis(redisPort);

		// Nobody types again: the nodes resync on their own once Redis is back.
		await eventually(() => readCode(a1.doc) === readCode(b1.doc) && readCode(b1.doc).includes("[a2-down]"), 100);
		const merged = readCode(a1.doc);
		for (const marker of ["[before]", "[a-down]", "[b-down]", "[a2-down]"]) expect(merged).toContain(marker);
		expect(merged.length).toBe("start\n[before][a-down][b-down][a2-down]".length);
		await eventually(() => readCode(a2.doc) === merged && readCode(b2.doc) === merged);

		// And edits flow across nodes again.
		type(b2, "[after]");
		await eventually(() => readCode(a1.doc).includes("[after]"));

		// The document opened during the outage joins the cluster once Redis is back, both ways.
		const fb = await connectClient(b.wsUrl, fresh, owner.token);
		clients.push(fb);
		await eventually(() => readCode(fb.doc).includes("[fresh-down]"));
		type(fb, "[fresh-b]");
		await eventually(() => readCode(fa.doc).includes("[fresh-b]"));
		type(fa, "[fresh-a]");
		await eventually(() => readCode(fb.doc).endsWith("[fresh-a]"));

		for (const c of clients.splice(0)) c.destroy();
		await eventually(
			() => !a.server.hocuspocus.documents.has(shared) && !b.server.hocuspocus.documents.has(shared),
			100,
		);
		expect(await storedCode(a, shared)).toBe(readCode(a1.doc));
	}, 120_000);
});
