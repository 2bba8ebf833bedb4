import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { testRuns } from "../db/schema.ts";
import type { JudgedCase, TestReport } from "./judge.ts";

/** Record a test run before it is queued, so any node can judge its verdict. */
export async function insertTestRun(
	db: Db,
	id: string,
	sessionId: string,
	cases: readonly JudgedCase[],
): Promise<void> {
	await db.insert(testRuns).values({ id, sessionId, cases }).onConflictDoNothing();
}

export async function findTestRun(
	db: Db,
	id: string,
): Promise<{ sessionId: string; cases: JudgedCase[]; report: TestReport | null } | undefined> {
	const rows = await db.select().from(testRuns).where(eq(testRuns.id, id)).limit(1);
	const row = rows[0];
	if (!row) return undefined;
	return { sessionId: row.sessionId, cases: row.cases as JudgedCase[], report: (row.report as TestReport) ?? null };
}

/** Store the full verdicts once (the first node to judge wins; the others change nothing). */
export async function storeTestReport(db: Db, id: string, report: TestReport): Promise<void> {
	await db
		.update(testRuns)
		.set({ report })
		.where(and(eq(testRuns.id, id), isNull(testRuns.report)));
}
