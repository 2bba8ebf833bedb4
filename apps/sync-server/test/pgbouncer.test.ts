import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { codeText, readCode } from "@tandem/crdt-schema";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
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

// Issue 13 step 5: a node behind Debian's PgBouncer in transaction mode (DATABASE_POOL_MODE=transaction).
const dbName = `tandem_bouncer_${Math.random().toString(36).slice(2, 10)}`;
const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
let bouncer: ChildProcess | undefined;
let node: RunningServer | undefined;
const clients: CollabClient[] = [];

/** PgBouncer (transaction mode, 2 server connections) in front of the test Postgres, run as `postgres`: it refuses root. */
async function startPgBouncer(port: number): Promise<ChildProcess> {
	const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-pgbouncer-"));
	chmodSync(dir, 0o755);
	const target = new URL(TEST_DATABASE_URL);
	writeFileSync(path.join(dir, "users.txt"), `"${target.username || "postgres"}" ""\n`);
	writeFileSync(
		path.join(dir, "pgbouncer.ini"),
		[
			"[databases]",
			`* = host=${target.hostname} port=${target.port || 5432}`,
			"[pgbouncer]",
			"listen_addr = 127.0.0.1",
			`listen_port = ${port}`,
			"unix_socket_dir =",
			"auth_type = trust",
			`auth_file = ${path.join(dir, "users.txt")}`,
			"pool_mode = transaction",
			"default_pool_size = 2",
			"max_client_conn = 200",
			"ignore_startup_parameters = extra_float_digits,application_name",
			"",
		].join("\n"),
	);
	// PgBouncer will not run as root: as root, drop to the `postgres` user (Debian's postgresql packages make it).
	const user =
		process.getuid?.() === 0
			? {
					uid: Number(execFileSync("id", ["-u", "postgres"]).toString()),
					gid: Number(execFileSync("id", ["-g", "postgres"]).toString()),
				}
			: {};
	const child = spawn("pgbouncer", [path.join(dir, "pgbouncer.ini")], { ...user, stdio: "ignore" });
	const failed = new Promise<never>((_, reject) =>
		child.once("exit", (code) => reject(new Error(`pgbouncer exited with ${code}`))),
	);
	const listening = () =>
		new Promise<boolean>((resolve) => {
			const socket = net.connect(port, "127.0.0.1");
			socket.once("error", () => resolve(false));
			socket.once("connect", () => {
				socket.destroy();
				resolve(true);
			});
		});
	await Promise.race([eventually(listening, 50), failed]);
	return child;
}

beforeAll(async () => {
	await admin.unsafe(`CREATE DATABASE "${dbName}"`);
	const port = await freePort();
	bouncer = await startPgBouncer(port);
	const viaBouncer = new URL(databaseUrl(dbName));
	viaBouncer.port = String(port);
	node = await startTestServer({
		DATABASE_URL: viaBouncer.toString(),
		DATABASE_POOL_MODE: "transaction",
		DATABASE_POOL_MAX: "8",
		// Migrations hold a session advisory lock: straight to Postgres.
		DATABASE_MIGRATION_URL: databaseUrl(dbName),
	});
}, 120_000);

afterAll(async () => {
	for (const c of clients) c.destroy();
	await node?.close();
	bouncer?.kill("SIGTERM");
	await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
	await admin.end();
});

describe("Postgres through PgBouncer in transaction mode (issue 13 step 5)", () => {
	it("accounts, sessions and a stored document work while 8 client connections share 2 server connections", async () => {
		const s = node as RunningServer;
		// Many requests at once: each of the node's connections runs the same statements on whichever server
		// connection PgBouncer hands it (named prepared statements would collide or be missing there).
		const users = await Promise.all(Array.from({ length: 8 }, (_, i) => registerUser(s.url, `bouncer${i}`)));
		const owner = users[0] as (typeof users)[number];
		const sessions = await Promise.all(users.map((u) => createSession(s.url, u.token, { code: "pooled\n" })));
		const reads = await Promise.all(
			sessions.map((session, i) =>
				api(s.url, "GET", `/session/${session.id}`, { token: (users[i] as (typeof users)[number]).token }),
			),
		);
		expect(reads.map((r) => r.status)).toEqual(Array(8).fill(200));

		const session = sessions[0];
		const client = await connectClient(s.wsUrl, session.id, owner.token);
		clients.push(client);
		codeText(client.doc).insert(0, "through the pooler ");
		await eventually(async () => {
			const res = await api(s.url, "GET", `/session/${session.id}`, { token: owner.token });
			return res.body?.code === readCode(client.doc) && res.body.code.startsWith("through the pooler");
		}, 100);
	}, 60_000);
});
