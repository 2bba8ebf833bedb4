import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { hiddenTests } from "../db/schema.ts";

export type HiddenTestRow = typeof hiddenTests.$inferSelect;

export async function listHiddenTests(db: Db, sessionId: string): Promise<HiddenTestRow[]> {
	return db
		.select()
		.from(hiddenTests)
		.where(eq(hiddenTests.sessionId, sessionId))
		.orderBy(asc(hiddenTests.position), asc(hiddenTests.createdAt));
}

export async function findHiddenTest(db: Db, sessionId: string, id: string): Promise<HiddenTestRow | undefined> {
	const rows = await db
		.select()
		.from(hiddenTests)
		.where(and(eq(hiddenTests.sessionId, sessionId), eq(hiddenTests.id, id)))
		.limit(1);
	return rows[0];
}

/** Append a hidden test after the session's others. */
export async function insertHiddenTest(
	db: Db,
	test: { id: string; sessionId: string; name: string; stdin: string; expected: string },
): Promise<HiddenTestRow> {
	const [row] = await db
		.insert(hiddenTests)
		.values({
			...test,
			position: sql`(select coalesce(max(${hiddenTests.position}), -1) + 1 from ${hiddenTests} where ${hiddenTests.sessionId} = ${test.sessionId})`,
		})
		.returning();
	if (!row) throw new Error("insert returned no row");
	return row;
}

export async function updateHiddenTest(
	db: Db,
	sessionId: string,
	id: string,
	patch: { name?: string | undefined; stdin?: string | undefined; expected?: string | undefined },
): Promise<HiddenTestRow | undefined> {
	const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
	if (Object.keys(set).length === 0) return findHiddenTest(db, sessionId, id);
	const [row] = await db
		.update(hiddenTests)
		.set(set)
		.where(and(eq(hiddenTests.sessionId, sessionId), eq(hiddenTests.id, id)))
		.returning();
	return row;
}

export async function deleteHiddenTest(db: Db, sessionId: string, id: string): Promise<boolean> {
	const rows = await db
		.delete(hiddenTests)
		.where(and(eq(hiddenTests.sessionId, sessionId), eq(hiddenTests.id, id)))
		.returning({ id: hiddenTests.id });
	return rows.length > 0;
}
