// Migrations as a one-shot command (issue 14, CONTRACT Operations): `node apps/sync-server/src/migrate.ts`
// migrates the configured database and exits 0/1; a node started with MIGRATE_ON_START=false migrates
// nothing and refuses to start while a migration is pending.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { type Cluster, startCluster } from "./support/cluster.ts";
import { api, freePort, registerUser, TEST_TOKEN_SECRET } from "./support/testServer.ts";

const MIGRATE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src/migrate.ts");

/** Run migrate.ts with `env` to its exit; its code and what it printed. */
function runMigrate(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
	const child = spawn(process.execPath, [MIGRATE], {
		env: { ...process.env, ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
	let output = "";
	child.stdout.on("data", (c: Buffer) => {
		output += c.toString();
	});
	child.stderr.on("data", (c: Buffer) => {
		output += c.toString();
	});
	return new Promise((resolve) => child.on("close", (code) => resolve({ code, output })));
}

let cluster: Cluster;
beforeAll(async () => {
	cluster = await startCluster("migrate", { TOKEN_SECRET: TEST_TOKEN_SECRET });
});
afterAll(async () => {
	await cluster?.destroy();
});

describe("migrate.ts and MIGRATE_ON_START", () => {
	it("a node with MIGRATE_ON_START=false refuses an unmigrated database; migrate.ts migrates it once; then the node starts ready", async () => {
		await expect(cluster.spawn({ MIGRATE_ON_START: "false" })).rejects.toThrow(
			/lacks \d+ migration\(s\).*migrate\.ts/s,
		);
		// The refused node created nothing.
		const tables =
			await cluster.sql`select count(*)::int as n from information_schema.tables where table_schema = 'public'`;
		expect(tables[0]?.n).toBe(0);

		const first = await runMigrate(cluster.env);
		expect(first.code, first.output).toBe(0);
		expect(first.output).toMatch(/"msg":"migrated","database":"postgres","applied":[1-9]/);
		const again = await runMigrate(cluster.env);
		expect(again.code, again.output).toBe(0);
		expect(again.output).toContain('"applied":0');

		const node = await cluster.spawn({ MIGRATE_ON_START: "false" });
		expect((await api(node.url, "GET", "/readyz")).status).toBe(200);
		const user = await registerUser(node.url, "migrated");
		expect(user.token).toBeTruthy();
	}, 120_000);

	it("migrate.ts exits 1 with the reason when the database is unreachable or the configuration is bad", async () => {
		const port = await freePort();
		const down = await runMigrate({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nothing` });
		expect(down.code).toBe(1);
		expect(down.output).toMatch(/migration failed: .*(ECONNREFUSED|connect)/s);
		const bad = await runMigrate({ DATABASE_URL: "mysql://nowhere" });
		expect(bad.code).toBe(1);
		expect(bad.output).toContain("DATABASE_URL: must be a postgres:// URL");
	}, 60_000);

	it("MIGRATE_ON_START accepts true/false only", () => {
		expect(loadConfig({}).migrateOnStart).toBe(true);
		expect(loadConfig({ MIGRATE_ON_START: "false" }).migrateOnStart).toBe(false);
		expect(() => loadConfig({ MIGRATE_ON_START: "sometimes" })).toThrow(/MIGRATE_ON_START: must be "true" or "false"/);
	});
});
