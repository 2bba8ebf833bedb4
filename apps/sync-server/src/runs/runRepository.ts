import { and, desc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { executionResults, participants, sessions } from "../db/schema.ts";
import { isRole, type Role } from "../sessions/roles.ts";
import type { SessionRow } from "../sessions/sessionRepository.ts";
import type { ExecutionResult } from "./executionResult.ts";

type Row = typeof executionResults.$inferSelect;

function toResult(row: Row): ExecutionResult {
	return {
		id: row.id,
		sessionId: row.sessionId,
		output: row.output,
		error: row.error,
		executionTime: row.executionTimeMs,
		status: row.status,
		exitCode: row.exitCode,
		...(row.memoryKb !== null ? { memoryKb: row.memoryKb } : {}),
		language: row.language,
		createdAt: row.createdAt.toISOString(),
		...(row.submittedById ? { submittedBy: { id: row.submittedById, name: row.submittedByName ?? "" } } : {}),
		...(row.truncated ? { truncated: true } : {}),
		...(row.stdin !== null ? { stdin: row.stdin } : {}),
	};
}

/** Store a finished run once: every node stores every verdict, the first insert wins. */
export async function insertExecutionResult(db: Db, result: ExecutionResult): Promise<void> {
	await db
		.insert(executionResults)
		.values({
			id: result.id,
			sessionId: result.sessionId,
			language: result.language,
			status: result.status,
			output: result.output,
			error: result.error,
			exitCode: result.exitCode,
			executionTimeMs: result.executionTime,
			memoryKb: result.memoryKb ?? null,
			submittedById: result.submittedBy?.id ?? null,
			submittedByName: result.submittedBy?.name ?? null,
			truncated: result.truncated === true,
			stdin: result.stdin ?? null,
			createdAt: new Date(result.createdAt),
		})
		// Only the node that took the run knows its stdin; whichever node inserts first, it fills it in.
		.onConflictDoUpdate({
			target: executionResults.id,
			set: { stdin: sql`coalesce(${executionResults.stdin}, excluded.stdin)` },
		});
}

export async function findExecutionResult(db: Db, id: string): Promise<ExecutionResult | undefined> {
	const rows = await db.select().from(executionResults).where(eq(executionResults.id, id)).limit(1);
	return rows[0] ? toResult(rows[0]) : undefined;
}

/** A session's most recent runs, newest first. */
export async function listExecutionResults(db: Db, sessionId: string, limit: number): Promise<ExecutionResult[]> {
	const rows = await db
		.select()
		.from(executionResults)
		.where(and(eq(executionResults.sessionId, sessionId)))
		.orderBy(desc(executionResults.createdAt), desc(executionResults.id))
		.limit(limit);
	return rows.map(toResult);
}

/** What a run needs of its session: the id, the language and code to fall back on, and whether it ended. */
export type RunSession = Pick<SessionRow, "id" | "language" | "code" | "endedAt">;

// Built once per database: drizzle's query building cost about as much CPU as PGlite running it.
function prepareSessionAndRole(db: Db) {
	return db
		.select({
			id: sessions.id,
			language: sessions.language,
			code: sessions.code,
			endedAt: sessions.endedAt,
			role: participants.role,
		})
		.from(sessions)
		.leftJoin(
			participants,
			and(eq(participants.sessionId, sessions.id), eq(participants.userId, sql.placeholder("userId"))),
		)
		.where(eq(sessions.id, sql.placeholder("sessionId")))
		.limit(1)
		.prepare("runs_session_and_role");
}
const sessionAndRoleQueries = new WeakMap<Db, ReturnType<typeof prepareSessionAndRole>>();

/** A session and the user's role in it (null for a non-participant) in one query; undefined for no session. */
export async function findSessionAndRole(
	db: Db,
	sessionId: string,
	userId: string,
): Promise<{ session: RunSession; role: Role | null } | undefined> {
	let query = sessionAndRoleQueries.get(db);
	if (!query) sessionAndRoleQueries.set(db, (query = prepareSessionAndRole(db)));
	const row = (await query.execute({ sessionId, userId }))[0];
	return row
		? {
				session: { id: row.id, language: row.language, code: row.code, endedAt: row.endedAt },
				role: isRole(row.role) ? row.role : null,
			}
		: undefined;
}
