import { codeText, readCode } from "@tandem/crdt-schema";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { type ChildServer, spawnServer } from "./support/childServer.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { storedState } from "./support/storedState.ts";
import {
	api,
	createSession,
	databaseUrl,
	eventually,
	registerUser,
	TEST_DATABASE_URL,
	TEST_REDIS_URL,
} from "./support/testServer.ts";

const dbName = `tandem_test_${Math.random().toString(36).slice(2, 10)}`;
const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
const nodes: ChildServer[] = [];
const clients: CollabClient[] = [];

beforeAll(async () => {
	await admin.unsafe(`CREATE DATABASE "${dbName}"`);
	const env = {
		DATABASE_URL: databaseUrl(dbName),
		REDIS_URL: TEST_REDIS_URL,
		REDIS_PREFIX: dbName,
		DATA_DIR: "/nonexistent-unused",
		PERSIST_DEBOUNCE_MS: "200",
		PERSIST_MAX_DEBOUNCE_MS: "1000",
	};
	// Both nodes boot at once over a fresh database: migrations and the token secret must not race.
	nodes.push(...(await Promise.all([spawnServer(env), spawnServer(env)])));
}, 240_000);

afterAll(async () => {
	for (const c of clients) c.destroy();
	for (const n of nodes) await n.stop("SIGTERM");
	await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
	await admin.end();
});

describe("two nodes over one Postgres and one Redis", () => {
	it("serve one session: clients on different nodes converge, and the database holds the merged state", async () => {
		const [a, b] = nodes as [ChildServer, ChildServer];
		const owner = await registerUser(a.url, "nodeowner");
		const peer = await registerUser(b.url, "nodepeer");
		// A token minted on node A is valid on node B (one secret in the database).
		expect((await api(b.url, "GET", "/me", { token: owner.token })).status).toBe(200);
		const session = await createSession(a.url, owner.token, { code: "shared\n" });
		await api(b.url, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, userId: peer.user.id },
		});

		const onA = await connectClient(a.wsUrl, session.id, owner.token);
		const onB = await connectClient(b.wsUrl, session.id, peer.token);
		clients.push(onA, onB);
		expect(readCode(onB.doc)).toBe("shared\n");

		for (let i = 0; i < 40; i++) {
			const target = i % 2 === 0 ? onA : onB;
			const text = codeText(target.doc);
			text.insert((i * 7) % (text.length + 1), i % 2 === 0 ? "a" : "b");
			if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
		}
		await eventually(() => readCode(onA.doc) === readCode(onB.doc));
		const merged = readCode(onA.doc);
		expect(merged.length).toBe("shared\n".length + 40);

		const sessionsDb = postgres(databaseUrl(dbName), { max: 1, onnotice: () => {} });
		try {
			await eventually(async () => {
				const state = await storedState(sessionsDb, session.id);
				if (!state) return false;
				const doc = new Y.Doc();
				Y.applyUpdate(doc, state);
				return readCode(doc) === merged;
			}, 100);
		} finally {
			await sessionsDb.end();
		}
		// REST on either node follows the document.
		const viaB = await api(b.url, "GET", `/session/${session.id}`, { token: peer.token });
		expect(viaB.body.code).toBe(merged);
	}, 60_000);
});
