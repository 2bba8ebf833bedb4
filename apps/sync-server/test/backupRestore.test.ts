// Backup and restore (issue 14, docs/DEPLOY.md "Backups"): pg_dump of a live node's database,
// pg_restore into a fresh database, and a new node on the restored copy serves the same sessions,
// users and tokens. Uses the machine's pg_dump/pg_restore (postgresql-client) against the test Postgres.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { codeText, readCode } from "@tandem/crdt-schema";
import { Redis } from "ioredis";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChildServer, spawnServer } from "./support/childServer.ts";
import { type Cluster, startCluster } from "./support/cluster.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import {
	api,
	createSession,
	databaseUrl,
	eventually,
	registerUser,
	TEST_DATABASE_URL,
	TEST_REDIS_URL,
	TEST_TOKEN_SECRET,
} from "./support/testServer.ts";

/** Run a PostgreSQL client tool; fails loudly when it is missing or exits non-zero. */
function pgTool(tool: string, args: string[]): void {
	const r = spawnSync(tool, args, { encoding: "utf8" });
	if (r.error) throw new Error(`${tool} is not installed (apt-get install postgresql-client): ${r.error.message}`);
	if (r.status !== 0) throw new Error(`${tool} exited ${r.status}: ${r.stderr}`);
}

const restoredName = `tandem_restored_${Math.random().toString(36).slice(2, 10)}`;
const dumpDir = mkdtempSync(path.join(os.tmpdir(), "tandem-backup-"));
const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
let cluster: Cluster;
const clients: CollabClient[] = [];
let restoredNode: ChildServer | undefined;

beforeAll(async () => {
	cluster = await startCluster("backup", { TOKEN_SECRET: TEST_TOKEN_SECRET });
});
afterAll(async () => {
	for (const c of clients) c.destroy();
	await restoredNode?.stop("SIGKILL");
	await cluster?.destroy();
	await admin.unsafe(`DROP DATABASE IF EXISTS "${restoredName}" WITH (FORCE)`);
	await admin.end();
	rmSync(dumpDir, { recursive: true, force: true });
	const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
	const keys = await redis.keys(`${restoredName}*`);
	if (keys.length > 0) await redis.del(...keys);
	redis.disconnect();
});

describe("backup and restore of Postgres", () => {
	it("pg_dump of a running node's database restored with pg_restore into a fresh database serves the same sessions", async () => {
		const node = await cluster.spawn();
		const u = await registerUser(node.url, "backup");
		const session = await createSession(node.url, u.token, { code: "first line\n" });
		const c = await connectClient(node.wsUrl, session.id, u.token);
		clients.push(c);
		codeText(c.doc).insert(codeText(c.doc).length, "zweite Zeile ✓ 🙂\n");
		const expected = readCode(c.doc);
		// Wait until the database holds the edit: a backup contains what was stored.
		await eventually(async () => (await cluster.storedCode(session.id)) === expected);

		// A custom-format dump taken while the node runs (pg_dump reads one consistent snapshot).
		const dump = path.join(dumpDir, "tandem.dump");
		pgTool("pg_dump", ["--format=custom", "--no-owner", "--file", dump, cluster.env.DATABASE_URL as string]);
		await admin.unsafe(`CREATE DATABASE "${restoredName}"`);
		pgTool("pg_restore", ["--no-owner", "--exit-on-error", "--dbname", databaseUrl(restoredName), dump]);

		// A node on the restored copy; MIGRATE_ON_START=false also proves the migration journal came along.
		restoredNode = await spawnServer({
			...cluster.env,
			DATABASE_URL: databaseUrl(restoredName),
			REDIS_PREFIX: restoredName,
			MIGRATE_ON_START: "false",
		});
		expect((await api(restoredNode.url, "GET", "/readyz")).status).toBe(200);
		// The old token is valid (users and the token secret came along), the session and its text too.
		const view = await api(restoredNode.url, "GET", `/session/${session.id}`, { token: u.token });
		expect(view.status).toBe(200);
		expect(view.body.code).toBe(expected);
		const login = await api(restoredNode.url, "POST", "/login", {
			body: { username: u.user.username, password: u.password },
		});
		expect(login.status).toBe(200);
		const again = await connectClient(restoredNode.wsUrl, session.id, login.body.token);
		clients.push(again);
		expect(readCode(again.doc)).toBe(expected);
	}, 180_000);
});
