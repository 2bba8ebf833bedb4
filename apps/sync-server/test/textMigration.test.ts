import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { afterAll, describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER } from "../src/db/database.ts";
import * as schema from "../src/db/schema.ts";

const dirs: string[] = [];
afterAll(() => {
	for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The migrations folder as it was before 0002 (its journal cut after `tag`). */
function foldersUpTo(tag: string): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-migrations-"));
	dirs.push(dir);
	cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
	const journalPath = path.join(dir, "meta/_journal.json");
	const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
	journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === tag) + 1);
	writeFileSync(journalPath, JSON.stringify(journal));
	return dir;
}

describe("migration 0002 (decision 042)", () => {
	it("RELIABILITY 37: text stored before it, U+0010 included, reads back the same after it; test runs keep their JSON", async () => {
		const client = new PGlite();
		const db = drizzle({ client, schema });
		await migrate(db, { migrationsFolder: foldersUpTo("0001_runs_and_tests") });
		await db.execute(sql`insert into users (id, username, email, password_hash) values ('u1', 'old', 'o@x.test', 'h')`);
		await db.execute(
			sql`insert into sessions (id, owner_id, title, code, language) values ('s1', 'u1', ${"t\u0010i0t\u0010\u0010le"}, ${"c\u0010ode"}, 'python')`,
		);
		await db.execute(
			sql`insert into test_runs (id, session_id, cases, report) values ('r1', 's1', ${'[{"name":"n"}]'}::jsonb, null)`,
		);
		await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
		const [row] = await db.select().from(schema.sessions).where(eq(schema.sessions.id, "s1"));
		expect(row).toMatchObject({ title: "t\u0010i0t\u0010\u0010le", code: "c\u0010ode" });
		const [run] = await db.select().from(schema.testRuns).where(eq(schema.testRuns.id, "r1"));
		expect(run?.cases).toEqual([{ name: "n" }]);
		// And the new kind of text now fits.
		await db
			.update(schema.testRuns)
			.set({ report: { output: "a\u0000b" } })
			.where(eq(schema.testRuns.id, "r1"));
		const [after] = await db.select().from(schema.testRuns).where(eq(schema.testRuns.id, "r1"));
		expect(after?.report).toEqual({ output: "a\u0000b" });
		await client.close();
	});
});
