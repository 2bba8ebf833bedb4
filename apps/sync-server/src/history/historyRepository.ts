import { codeText, DEFAULT_LANGUAGE, readCode, readLanguage } from "@tandem/crdt-schema";
import { and, asc, eq, lte } from "drizzle-orm";
import * as Y from "yjs";
import type { Db } from "../db/database.ts";
import { documents, documentUpdates, executionResults, sessionClients, sessionEvents, testRuns } from "../db/schema.ts";
import { ApiError } from "../http/errors.ts";

/** Kinds of history event (CONTRACT "History", SPEC CS11). */
export type HistoryKind = "edit" | "run" | "tests" | "language" | "join" | "leave" | "restore";

/** Kinds kept in session_events; edits, runs and test runs live in their own tables. */
export type RecordedKind = "language" | "join" | "leave" | "restore";

/** One event as GET /session/{id}/history lists it: `at` is an ISO 8601 time. */
export interface HistoryEvent {
	readonly id: string;
	readonly at: string;
	readonly kind: HistoryKind;
	readonly userId: string | null;
	readonly [extra: string]: unknown;
}

/** The document as it was at an event (GET /session/{id}/history/{eventId}). */
export interface HistoryPoint {
	readonly code: string;
	readonly language: string;
	readonly at: string;
}

/**
 * Event ids name their source table: `edit-<log row id>`, `event-<session_events id>`,
 * `run-<execution id>`, `tests-<test run id>` (SPEC CS11).
 */
const EVENT_ID = /^(edit|event|run|tests)-([A-Za-z0-9_-]{1,128})$/;

/** Anything with `insert` (a Db or a transaction). */
type Writer = Pick<Db, "insert">;

/** Record a non-edit event (language, join, leave, restore). `data` is stored as `json`. */
export async function recordEvent(
	db: Writer,
	sessionId: string,
	kind: RecordedKind,
	userId: string | null,
	data: Record<string, unknown> = {},
): Promise<void> {
	await db.insert(sessionEvents).values({ sessionId, kind, userId, data });
}

/** The Yjs client ids that wrote something in `update`. */
export function clientsOfUpdate(update: Uint8Array): number[] {
	return [...Y.parseUpdateMeta(update).to.keys()];
}

/** Map Yjs client ids to the user whose connection applied them (SPEC CS13); the first mapping wins. */
export async function recordClients(db: Writer, sessionId: string, userId: string, clientIds: number[]): Promise<void> {
	if (clientIds.length === 0) return;
	await db
		.insert(sessionClients)
		.values(clientIds.map((clientId) => ({ sessionId, clientId, userId })))
		.onConflictDoNothing();
}

/** The seed state of a new session is the owner's text (SPEC CS13). */
export async function recordSeedClients(
	db: Writer,
	sessionId: string,
	ownerId: string,
	state: Uint8Array,
): Promise<void> {
	await recordClients(db, sessionId, ownerId, clientsOfUpdate(state));
}

/** clientID → userId for a session. */
export async function clientOwners(db: Db, sessionId: string): Promise<Map<number, string>> {
	const rows = await db
		.select({ clientId: sessionClients.clientId, userId: sessionClients.userId })
		.from(sessionClients)
		.where(eq(sessionClients.sessionId, sessionId));
	return new Map(rows.map((r) => [r.clientId, r.userId]));
}

/** Order of kinds at the same instant: the checkpoint first, so a run "sees" the edit stored with it. */
const KIND_ORDER: Record<HistoryKind, number> = {
	edit: 0,
	language: 1,
	restore: 2,
	join: 3,
	leave: 4,
	run: 5,
	tests: 6,
};

/**
 * Every event of a session in time order (SPEC CS11): edit checkpoints (log rows, with the user
 * owning the row's first client id), runs with their status, test runs with passed and total
 * once judged, and the recorded events.
 */
export async function listHistory(db: Db, sessionId: string): Promise<HistoryEvent[]> {
	const [edits, recorded, runs, tests, owners] = await Promise.all([
		db
			.select({ id: documentUpdates.id, update: documentUpdates.update, createdAt: documentUpdates.createdAt })
			.from(documentUpdates)
			.where(eq(documentUpdates.sessionId, sessionId))
			.orderBy(asc(documentUpdates.id)),
		db.select().from(sessionEvents).where(eq(sessionEvents.sessionId, sessionId)),
		db
			.select({
				id: executionResults.id,
				status: executionResults.status,
				userId: executionResults.submittedById,
				createdAt: executionResults.createdAt,
			})
			.from(executionResults)
			.where(eq(executionResults.sessionId, sessionId)),
		db
			.select({ id: testRuns.id, report: testRuns.report, createdAt: testRuns.createdAt })
			.from(testRuns)
			.where(eq(testRuns.sessionId, sessionId)),
		clientOwners(db, sessionId),
	]);
	const events: { ms: number; event: HistoryEvent }[] = [];
	for (const row of edits) {
		let userId: string | null = null;
		for (const client of clientsOfUpdate(row.update)) {
			userId = owners.get(client) ?? null;
			if (userId) break;
		}
		events.push({
			ms: row.createdAt.getTime(),
			event: { id: `edit-${row.id}`, at: row.createdAt.toISOString(), kind: "edit", userId },
		});
	}
	for (const row of recorded) {
		const data = (row.data ?? {}) as Record<string, unknown>;
		events.push({
			ms: row.createdAt.getTime(),
			event: {
				...data,
				id: `event-${row.id}`,
				at: row.createdAt.toISOString(),
				kind: row.kind as HistoryKind,
				userId: row.userId,
			},
		});
	}
	for (const row of runs) {
		events.push({
			ms: row.createdAt.getTime(),
			event: {
				id: `run-${row.id}`,
				at: row.createdAt.toISOString(),
				kind: "run",
				userId: row.userId,
				status: row.status,
			},
		});
	}
	for (const row of tests) {
		const report = row.report as { passed?: number; total?: number } | null;
		events.push({
			ms: row.createdAt.getTime(),
			event: {
				id: `tests-${row.id}`,
				at: row.createdAt.toISOString(),
				kind: "tests",
				userId: null,
				passed: report?.passed ?? null,
				total: report?.total ?? null,
				status: report ? "done" : "running",
			},
		});
	}
	events.sort((a, b) => a.ms - b.ms || KIND_ORDER[a.event.kind] - KIND_ORDER[b.event.kind]);
	return events.map((e) => e.event);
}

/** Where an event sits: the last log row to include (by id or by time) and its own time. */
async function locate(
	db: Db,
	sessionId: string,
	eventId: string,
): Promise<{ upToRow?: number; upToTime?: Date; at: Date; language?: string }> {
	const match = EVENT_ID.exec(eventId);
	if (!match) throw new ApiError("not_found", `No history event "${eventId.slice(0, 140)}" in this session`);
	const [, source, key] = match as unknown as [string, string, string];
	const missing = () => new ApiError("not_found", `No history event "${eventId}" in this session`);
	if (source === "edit") {
		const id = Number(key);
		if (!Number.isSafeInteger(id)) throw missing();
		const rows = await db
			.select({ createdAt: documentUpdates.createdAt })
			.from(documentUpdates)
			.where(and(eq(documentUpdates.sessionId, sessionId), eq(documentUpdates.id, id)));
		if (!rows[0]) throw missing();
		return { upToRow: id, at: rows[0].createdAt };
	}
	if (source === "event") {
		const id = Number(key);
		if (!Number.isSafeInteger(id)) throw missing();
		const rows = await db
			.select()
			.from(sessionEvents)
			.where(and(eq(sessionEvents.sessionId, sessionId), eq(sessionEvents.id, id)));
		const row = rows[0];
		if (!row) throw missing();
		const data = (row.data ?? {}) as { language?: unknown };
		return {
			upToTime: row.createdAt,
			at: row.createdAt,
			...(row.kind === "language" && typeof data.language === "string" ? { language: data.language } : {}),
		};
	}
	const table = source === "run" ? executionResults : testRuns;
	const rows = await db
		.select({ createdAt: table.createdAt })
		.from(table)
		.where(and(eq(table.sessionId, sessionId), eq(table.id, key)));
	if (!rows[0]) throw missing();
	return { upToTime: rows[0].createdAt, at: rows[0].createdAt };
}

/**
 * The document at an event (SPEC CS12): the history base merged with the log rows up to an edit
 * checkpoint, or for any other event up to the last checkpoint at or before its time. 404 for an
 * event id this session does not have.
 */
export async function stateAt(db: Db, sessionId: string, eventId: string): Promise<HistoryPoint> {
	const where = await locate(db, sessionId, eventId);
	const [base, rows] = await Promise.all([
		db.select({ historyBase: documents.historyBase }).from(documents).where(eq(documents.sessionId, sessionId)),
		db
			.select({ update: documentUpdates.update })
			.from(documentUpdates)
			.where(
				and(
					eq(documentUpdates.sessionId, sessionId),
					where.upToRow !== undefined
						? lte(documentUpdates.id, where.upToRow)
						: lte(documentUpdates.createdAt, where.upToTime as Date),
				),
			)
			.orderBy(asc(documentUpdates.id)),
	]);
	const doc = new Y.Doc();
	try {
		const historyBase = base[0]?.historyBase;
		if (historyBase && historyBase.byteLength > 0) Y.applyUpdate(doc, historyBase);
		for (const row of rows) Y.applyUpdate(doc, row.update);
		const language = where.language ?? (rows.length > 0 || historyBase ? readLanguage(doc) : DEFAULT_LANGUAGE);
		return { code: readCode(doc), language, at: where.at.toISOString() };
	} finally {
		doc.destroy();
	}
}

/** One run of characters typed by one user (`userId` null: unknown, e.g. the server or an old client). */
export interface AuthorshipRange {
	readonly from: number;
	readonly to: number;
	readonly userId: string | null;
}

/**
 * Who wrote each character of the document's code (SPEC CS13), from the client id of every
 * visible Y.Text item: offsets in UTF-16 code units, `to` exclusive, adjacent runs of one user merged.
 */
export function authorshipOf(doc: Y.Doc, owners: ReadonlyMap<number, string>): AuthorshipRange[] {
	const ranges: { from: number; to: number; userId: string | null }[] = [];
	let offset = 0;
	for (let item = codeText(doc)._start; item !== null; item = item.right) {
		if (item.deleted || !item.countable) continue;
		const length = item.length;
		const userId = owners.get(item.id.client) ?? null;
		const last = ranges[ranges.length - 1];
		if (last && last.userId === userId && last.to === offset) last.to += length;
		else ranges.push({ from: offset, to: offset + length, userId });
		offset += length;
	}
	return ranges;
}
