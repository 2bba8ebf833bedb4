import type { Hocuspocus } from "@hocuspocus/server";
import {
	addTest,
	MAX_DOCUMENT_BYTES,
	MAX_HIDDEN_TESTS_BYTES,
	MAX_TEST_FIELD_BYTES,
	MAX_TEST_NAME_CHARS,
	MAX_TESTS_PER_SESSION,
	moveTest,
	readTests,
	removeTest,
	type TestCase,
	updateTest,
	utf8Length,
} from "@tandem/crdt-schema";
import { MAX_INPUTS_PER_JOB, type RunEvent, runJob } from "@tandem/run-queue";
import type { FastifyInstance } from "fastify";
import { nanoid } from "nanoid";
import type * as Y from "yjs";
import { z } from "zod";
import { changeSessionDocument, readSessionDocument } from "../collab/documents.ts";
import { documentBytes } from "../collab/updateGuard.ts";
import { ApiError, parseInput } from "../http/errors.ts";
import { TEST_JOB_PREFIX } from "../runs/RunHub.ts";
import { queueFailure, type RunAccess, requireHub } from "../runs/runRoutes.ts";
import { checkSize, RUN_BODY_LIMIT_BYTES, resolveRunSource } from "../runs/runSource.ts";
import { sendToSession } from "../runs/sessionBroadcast.ts";
import type { ServerContext } from "../server.ts";
import { canRun, isManager, type Role, runRefusal } from "../sessions/roles.ts";
import { requireSessionRole } from "../sessions/sessionAccess.ts";
import { shownName } from "../sessions/sessionRepository.ts";
import {
	deleteHiddenTest,
	findHiddenTest,
	type HiddenTestRow,
	insertHiddenTest,
	listHiddenTests,
	updateHiddenTest,
} from "./hiddenTestRepository.ts";
import { type JudgedCase, judge, redactReport, seesHiddenTests, type TestReport } from "./judge.ts";
import { findTestRun, insertTestRun, storeTestReport } from "./testRunRepository.ts";

const MAX_NAME_CHARS = MAX_TEST_NAME_CHARS;
const sessionParams = z.object({ sessionId: z.string().max(256) });
const testParams = z.object({ sessionId: z.string().max(256), testId: z.string().min(1).max(128) });
const testBody = z.object({
	name: z.string().max(MAX_NAME_CHARS, `name must be at most ${MAX_NAME_CHARS} characters`),
	stdin: z.string(),
	expected: z.string(),
	hidden: z.boolean().optional(),
});
const patchBody = z.object({
	name: z.string().max(MAX_NAME_CHARS, `name must be at most ${MAX_NAME_CHARS} characters`).optional(),
	stdin: z.string().optional(),
	expected: z.string().optional(),
	hidden: z.boolean().optional(),
	/** New position among the tests of the same kind (visible or hidden). */
	index: z.number().int().min(0).optional(),
});
const runTestsBody = z.object({
	language: z.string().max(64).optional(),
	code: z.string().optional(),
	/** An event id of GET /session/{id}/history: test the code as it was then. */
	at: z.string().min(1).max(256).optional(),
});

/** A test as REST shows it. */
export interface TestView {
	readonly id: string;
	readonly name: string;
	readonly stdin: string;
	readonly expected: string;
	readonly hidden: boolean;
}

const visibleView = (t: TestCase): TestView => ({ ...t, hidden: false });
const hiddenView = (t: HiddenTestRow): TestView => ({
	id: t.id,
	name: t.name,
	stdin: t.stdin,
	expected: t.expected,
	hidden: true,
});

function checkTestSizes(body: { stdin?: string | undefined; expected?: string | undefined }): void {
	if (body.stdin !== undefined) checkSize("stdin", body.stdin, MAX_TEST_FIELD_BYTES);
	if (body.expected !== undefined) checkSize("expected", body.expected, MAX_TEST_FIELD_BYTES);
}

/** Bytes a test adds to where it is kept (its fields in UTF-8, plus room for the map's keys). */
function testBytes(test: { name?: string; stdin?: string; expected?: string }): number {
	return 64 + utf8Length(test.name ?? "") + utf8Length(test.stdin ?? "") + utf8Length(test.expected ?? "");
}

/** 413 unless the session has room for one more test (RELIABILITY 44): MAX_TESTS_PER_SESSION in all. */
async function checkTestCount(ctx: ServerContext, sessionId: string): Promise<void> {
	const total = (await readVisible(ctx, sessionId)).length + (await listHiddenTests(ctx.db, sessionId)).length;
	if (total >= MAX_TESTS_PER_SESSION) {
		throw new ApiError(
			"payload_too_large",
			`This session already has ${total} tests; a session holds at most ${MAX_TESTS_PER_SESSION}`,
		);
	}
}

/** 413 unless `doc` can take `addedBytes` more and stay within MAX_DOCUMENT_BYTES (RELIABILITY 44). */
function checkDocumentRoom(doc: Y.Doc, addedBytes: number): void {
	const bytes = documentBytes(doc);
	if (bytes + addedBytes > MAX_DOCUMENT_BYTES) {
		throw new ApiError(
			"payload_too_large",
			`The session document is ${bytes} bytes and this change adds about ${addedBytes}; a document holds at most ${MAX_DOCUMENT_BYTES} bytes (${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB)`,
		);
	}
}

/** 413 unless the session's hidden tests stay within MAX_HIDDEN_TESTS_BYTES after adding `addedBytes`. */
async function checkHiddenRoom(ctx: ServerContext, sessionId: string, addedBytes: number, exceptId?: string) {
	let bytes = 0;
	for (const t of await listHiddenTests(ctx.db, sessionId)) if (t.id !== exceptId) bytes += testBytes(t);
	if (bytes + addedBytes > MAX_HIDDEN_TESTS_BYTES) {
		throw new ApiError(
			"payload_too_large",
			`Hidden tests would take ${bytes + addedBytes} bytes; a session holds at most ${MAX_HIDDEN_TESTS_BYTES} bytes (${MAX_HIDDEN_TESTS_BYTES / 1024 / 1024} MiB) of hidden tests`,
		);
	}
}

/** Only the owner and interviewers change tests, visible or hidden (CONTRACT "Interviews"). */
function canEdit(role: Role): void {
	if (!isManager(role)) throw new ApiError("forbidden", "Only the owner and interviewers can change tests");
}

function readVisible(ctx: ServerContext, sessionId: string): Promise<TestCase[]> {
	return readSessionDocument(ctx.hocuspocus, ctx.store, sessionId, readTests);
}

/** What of a failed test run someone who may not see hidden tests is told (RELIABILITY 45). */
const TEST_RUN_FAILED = "The test run did not finish; try again";

/**
 * Send a test run's news to this node's connections: the whole of it to those who see hidden
 * tests, the redacted report to others (RELIABILITY 45). `forOthers` null: others get nothing.
 */
function broadcastTests(
	hocuspocus: Hocuspocus,
	sessionId: string,
	message: Record<string, unknown>,
	forOthers: Record<string, unknown> | null,
	report?: TestReport,
): void {
	const full = JSON.stringify({ type: "tests", ...message, ...(report ? { report } : {}) });
	const redacted =
		forOthers === null
			? null
			: JSON.stringify({ type: "tests", ...forOthers, ...(report ? { report: redactReport(report) } : {}) });
	sendToSession(hocuspocus, sessionId, (_userId, role) => (seesHiddenTests(role) ? full : redacted));
}

/** Remembered per test run: how many of its first inputs are visible tests (bounded). */
const MAX_REMEMBERED_RUNS = 2_000;

/**
 * GET, POST /session/{id}/tests; PUT, DELETE /session/{id}/tests/{testId};
 * POST /session/{id}/run-tests. Visible tests live in the document (changed through a direct
 * connection so open editors see it); hidden ones in hidden_tests, shown to the owner only.
 */
export function registerTestRoutes(app: FastifyInstance, ctx: ServerContext, access: RunAccess): void {
	const visibleCounts = new Map<string, number>();
	/** How many inputs of a test run are visible tests (they run first); 0 when unknown. */
	async function visibleCountOf(runId: string): Promise<number> {
		const known = visibleCounts.get(runId);
		if (known !== undefined) return known;
		const run = await findTestRun(ctx.db, runId);
		const count = run ? run.cases.filter((c) => !c.hidden).length : 0;
		visibleCounts.set(runId, count);
		if (visibleCounts.size > MAX_REMEMBERED_RUNS) {
			const oldest = visibleCounts.keys().next().value;
			if (oldest !== undefined) visibleCounts.delete(oldest);
		}
		return count;
	}

	access.hub?.on(TEST_JOB_PREFIX, async (event: RunEvent) => {
		const base = {
			runId: event.jobId,
			state: event.state,
			...(event.submittedBy ? { by: event.submittedBy } : {}),
		};
		if (event.state === "progress") {
			const message = { ...base, completed: event.completedInputs ?? 0, total: event.totalInputs ?? 0 };
			// Progress through hidden tests would time each of them: others hear of visible ones only.
			const completed = event.completedInputs ?? 0;
			const others = completed <= (await visibleCountOf(event.jobId)) ? message : null;
			broadcastTests(ctx.hocuspocus, event.sessionId, message, others);
			return;
		}
		if (event.state === "done" && event.result) {
			const run = await findTestRun(ctx.db, event.jobId);
			if (!run) return;
			const report = judge(event.jobId, run.cases, event.result);
			// Every node judges for its own clients; one node writes the report (issue 13 step 4).
			if (await (access.hub?.claim(event.jobId) ?? true)) {
				await storeTestReport(ctx.db, event.jobId, report);
				ctx.metrics.runs.countStored("test");
			}
			broadcastTests(ctx.hocuspocus, event.sessionId, base, base, report);
			visibleCounts.delete(event.jobId);
			return;
		}
		const failed = { ...base, ...(event.error ? { error: event.error } : {}) };
		broadcastTests(ctx.hocuspocus, event.sessionId, failed, {
			...base,
			...(event.state === "failed" ? { error: TEST_RUN_FAILED } : {}),
		});
		if (event.state === "failed") visibleCounts.delete(event.jobId);
	});

	app.get("/session/:sessionId/tests", async (request) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		const { role } = await requireSessionRole(ctx, request, sessionId);
		const visible = (await readVisible(ctx, sessionId)).map(visibleView);
		if (!seesHiddenTests(role)) return visible;
		return [...visible, ...(await listHiddenTests(ctx.db, sessionId)).map(hiddenView)];
	});

	app.post("/session/:sessionId/tests", { bodyLimit: RUN_BODY_LIMIT_BYTES }, async (request, reply) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		const { role } = await requireSessionRole(ctx, request, sessionId);
		canEdit(role);
		const body = parseInput(testBody, request.body);
		if (body.hidden && !seesHiddenTests(role)) {
			throw new ApiError("forbidden", "Only the owner and interviewers can add hidden tests");
		}
		checkTestSizes(body);
		await checkTestCount(ctx, sessionId);
		if (body.hidden) {
			await checkHiddenRoom(ctx, sessionId, testBytes(body));
			reply.status(201);
			const row = await insertHiddenTest(ctx.db, { id: nanoid(), sessionId, ...body });
			return hiddenView(row);
		}
		const test: TestCase = { id: nanoid(), name: body.name, stdin: body.stdin, expected: body.expected };
		await changeSessionDocument(ctx.hocuspocus, sessionId, (doc) => {
			checkDocumentRoom(doc, testBytes(test));
			addTest(doc, test);
		});
		reply.status(201);
		return visibleView(test);
	});

	app.put("/session/:sessionId/tests/:testId", { bodyLimit: RUN_BODY_LIMIT_BYTES }, async (request) => {
		const { sessionId, testId } = parseInput(testParams, request.params);
		const { role } = await requireSessionRole(ctx, request, sessionId);
		canEdit(role);
		const body = parseInput(patchBody, request.body);
		checkTestSizes(body);
		const patch = { name: body.name, stdin: body.stdin, expected: body.expected };
		const visible = (await readVisible(ctx, sessionId)).find((t) => t.id === testId);
		const hidden = !visible && seesHiddenTests(role) ? await findHiddenTest(ctx.db, sessionId, testId) : undefined;
		if (!visible && !hidden) throw new ApiError("not_found", "No such test in this session");
		if (body.hidden !== undefined && body.hidden !== Boolean(hidden) && !seesHiddenTests(role)) {
			throw new ApiError("forbidden", "Only the owner and interviewers can hide or reveal tests");
		}
		if (visible && body.hidden === true) {
			// Hide: the test leaves the shared document for the server-only table.
			await checkHiddenRoom(ctx, sessionId, testBytes({ ...visible, ...definedOnly(patch) }));
			const row = await insertHiddenTest(ctx.db, { sessionId, ...visible, ...definedOnly(patch) });
			await changeSessionDocument(ctx.hocuspocus, sessionId, (doc) => removeTest(doc, testId));
			return hiddenView(row);
		}
		if (hidden && body.hidden === false) {
			const test: TestCase = { ...hiddenView(hidden), ...definedOnly(patch) };
			await changeSessionDocument(ctx.hocuspocus, sessionId, (doc) => {
				checkDocumentRoom(doc, testBytes(test));
				addTest(doc, { id: test.id, name: test.name, stdin: test.stdin, expected: test.expected }, null, body.index);
			});
			await deleteHiddenTest(ctx.db, sessionId, testId);
			return visibleView(test);
		}
		if (hidden) {
			await checkHiddenRoom(ctx, sessionId, testBytes({ ...hiddenView(hidden), ...definedOnly(patch) }), testId);
			const row = await updateHiddenTest(ctx.db, sessionId, testId, patch);
			if (!row) throw new ApiError("not_found", "No such test in this session");
			return hiddenView(row);
		}
		const updated = await changeSessionDocument(ctx.hocuspocus, sessionId, (doc) => {
			checkDocumentRoom(doc, testBytes(patch));
			if (!updateTest(doc, testId, definedOnly(patch))) return undefined;
			if (body.index !== undefined) moveTest(doc, testId, body.index);
			return readTests(doc).find((t) => t.id === testId);
		});
		if (!updated) throw new ApiError("not_found", "No such test in this session");
		return visibleView(updated);
	});

	app.delete("/session/:sessionId/tests/:testId", async (request, reply) => {
		const { sessionId, testId } = parseInput(testParams, request.params);
		const { role } = await requireSessionRole(ctx, request, sessionId);
		canEdit(role);
		const removed = await changeSessionDocument(ctx.hocuspocus, sessionId, (doc) => removeTest(doc, testId));
		const removedHidden = !removed && seesHiddenTests(role) ? await deleteHiddenTest(ctx.db, sessionId, testId) : false;
		if (!removed && !removedHidden) throw new ApiError("not_found", "No such test in this session");
		reply.status(204);
		return null;
	});

	app.post("/session/:sessionId/run-tests", { bodyLimit: RUN_BODY_LIMIT_BYTES }, async (request) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		const { user, role, session } = await requireSessionRole(ctx, request, sessionId);
		if (!canRun(role, session.endedAt !== null)) throw new ApiError("forbidden", runRefusal(role));
		const body = parseInput(runTestsBody, request.body);
		const hub = requireHub(access);
		await access.checkRate(request, user.id, sessionId);
		const { language, code } = await resolveRunSource(ctx, session, body, role);
		const visible = await readVisible(ctx, sessionId);
		const hidden = await listHiddenTests(ctx.db, sessionId);
		const all = [
			...visible.map((t) => ({ test: t, hidden: false })),
			...hidden.map((t) => ({ test: hiddenView(t), hidden: true })),
		];
		const runId = `${TEST_JOB_PREFIX}${nanoid(24)}`;
		if (all.length === 0) return { runId, passed: 0, total: 0, results: [] };
		if (all.length > MAX_INPUTS_PER_JOB) {
			throw new ApiError("invalid_input", `A session can run at most ${MAX_INPUTS_PER_JOB} tests at once`);
		}
		const cases: JudgedCase[] = all.map(({ test, hidden: isHidden }, i) => ({
			inputId: `c${i}`,
			testId: test.id,
			name: test.name,
			expected: test.expected,
			hidden: isHidden,
		}));
		await insertTestRun(ctx.db, runId, sessionId, cases);
		const job = {
			id: runId,
			sessionId,
			language,
			code,
			inputs: all.map(({ test }, i) => ({ id: `c${i}`, stdin: test.stdin })),
			submittedBy: { id: user.id, name: shownName(user) },
			submittedAt: new Date().toISOString(),
		};
		const sees = seesHiddenTests(role);
		const result = await runJob(hub.queue, job, { timeoutMs: access.waitMs }).catch((e: unknown) =>
			queueFailure(e, sees || hidden.length === 0 ? undefined : TEST_RUN_FAILED),
		);
		const report = judge(runId, cases, result);
		await storeTestReport(ctx.db, runId, report);
		return sees ? report : redactReport(report);
	});
}

function definedOnly<T extends Record<string, unknown>>(patch: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
	return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as {
		[K in keyof T]?: Exclude<T[K], undefined>;
	};
}
