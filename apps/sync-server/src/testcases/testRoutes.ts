import type { Hocuspocus } from "@hocuspocus/server";
import { addTest, moveTest, readTests, removeTest, type TestCase, updateTest } from "@tandem/crdt-schema";
import { MAX_INPUTS_PER_JOB, MAX_STDIN_BYTES, type RunEvent, runJob } from "@tandem/run-queue";
import type { FastifyInstance } from "fastify";
import { nanoid } from "nanoid";
import { z } from "zod";
import { changeSessionDocument, readSessionDocument } from "../collab/documents.ts";
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
import { type JudgedCase, judge, redactReport, type TestReport } from "./judge.ts";
import { findTestRun, insertTestRun, storeTestReport } from "./testRunRepository.ts";

const MAX_NAME_CHARS = 200;
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
const runTestsBody = z.object({ language: z.string().max(64).optional(), code: z.string().optional() });

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
	if (body.stdin !== undefined) checkSize("stdin", body.stdin, MAX_STDIN_BYTES);
	if (body.expected !== undefined) checkSize("expected", body.expected, MAX_STDIN_BYTES);
}

/** Only the owner and interviewers change tests, visible or hidden (CONTRACT "Interviews"). */
function canEdit(role: Role): void {
	if (!isManager(role)) throw new ApiError("forbidden", "Only the owner and interviewers can change tests");
}

function readVisible(ctx: ServerContext, sessionId: string): Promise<TestCase[]> {
	return readSessionDocument(ctx.hocuspocus, ctx.store, sessionId, readTests);
}

/** Send a test run's progress or verdict to this node's connections; hidden details to the owner and interviewers only. */
function broadcastTests(
	hocuspocus: Hocuspocus,
	sessionId: string,
	message: Record<string, unknown>,
	report?: TestReport,
): void {
	const forOthers = JSON.stringify({ type: "tests", ...message, ...(report ? { report: redactReport(report) } : {}) });
	const forManagers = report ? JSON.stringify({ type: "tests", ...message, report }) : forOthers;
	sendToSession(hocuspocus, sessionId, (_userId, role) =>
		role !== undefined && isManager(role) ? forManagers : forOthers,
	);
}

/**
 * GET, POST /session/{id}/tests; PUT, DELETE /session/{id}/tests/{testId};
 * POST /session/{id}/run-tests. Visible tests live in the document (changed through a direct
 * connection so open editors see it); hidden ones in hidden_tests, shown to the owner only.
 */
export function registerTestRoutes(app: FastifyInstance, ctx: ServerContext, access: RunAccess): void {
	access.hub?.on(TEST_JOB_PREFIX, async (event: RunEvent) => {
		const base = {
			runId: event.jobId,
			state: event.state,
			...(event.submittedBy ? { by: event.submittedBy } : {}),
		};
		if (event.state === "progress") {
			broadcastTests(ctx.hocuspocus, event.sessionId, {
				...base,
				completed: event.completedInputs ?? 0,
				total: event.totalInputs ?? 0,
			});
			return;
		}
		if (event.state === "done" && event.result) {
			const run = await findTestRun(ctx.db, event.jobId);
			if (!run) return;
			const report = judge(event.jobId, run.cases, event.result);
			await storeTestReport(ctx.db, event.jobId, report);
			broadcastTests(ctx.hocuspocus, event.sessionId, base, report);
			return;
		}
		broadcastTests(ctx.hocuspocus, event.sessionId, {
			...base,
			...(event.error ? { error: event.error } : {}),
		});
	});

	app.get("/session/:sessionId/tests", async (request) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		const { role } = await requireSessionRole(ctx, request, sessionId);
		const visible = (await readVisible(ctx, sessionId)).map(visibleView);
		if (!isManager(role)) return visible;
		return [...visible, ...(await listHiddenTests(ctx.db, sessionId)).map(hiddenView)];
	});

	app.post("/session/:sessionId/tests", { bodyLimit: RUN_BODY_LIMIT_BYTES }, async (request, reply) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		const { role } = await requireSessionRole(ctx, request, sessionId);
		canEdit(role);
		const body = parseInput(testBody, request.body);
		checkTestSizes(body);
		reply.status(201);
		if (body.hidden) {
			const row = await insertHiddenTest(ctx.db, { id: nanoid(), sessionId, ...body });
			return hiddenView(row);
		}
		const test: TestCase = { id: nanoid(), name: body.name, stdin: body.stdin, expected: body.expected };
		await changeSessionDocument(ctx.hocuspocus, sessionId, (doc) => addTest(doc, test));
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
		const hidden = !visible ? await findHiddenTest(ctx.db, sessionId, testId) : undefined;
		if (!visible && !hidden) throw new ApiError("not_found", "No such test in this session");
		if (visible && body.hidden === true) {
			// Hide: the test leaves the shared document for the server-only table.
			const row = await insertHiddenTest(ctx.db, { sessionId, ...visible, ...definedOnly(patch) });
			await changeSessionDocument(ctx.hocuspocus, sessionId, (doc) => removeTest(doc, testId));
			return hiddenView(row);
		}
		if (hidden && body.hidden === false) {
			const test: TestCase = { ...hiddenView(hidden), ...definedOnly(patch) };
			await changeSessionDocument(ctx.hocuspocus, sessionId, (doc) =>
				addTest(doc, { id: test.id, name: test.name, stdin: test.stdin, expected: test.expected }, null, body.index),
			);
			await deleteHiddenTest(ctx.db, sessionId, testId);
			return visibleView(test);
		}
		if (hidden) {
			const row = await updateHiddenTest(ctx.db, sessionId, testId, patch);
			if (!row) throw new ApiError("not_found", "No such test in this session");
			return hiddenView(row);
		}
		const updated = await changeSessionDocument(ctx.hocuspocus, sessionId, (doc) => {
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
		const removedHidden = !removed ? await deleteHiddenTest(ctx.db, sessionId, testId) : false;
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
		const { language, code } = await resolveRunSource(ctx, session, body);
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
		const result = await runJob(hub.queue, job, { timeoutMs: access.waitMs }).catch(queueFailure);
		const report = judge(runId, cases, result);
		await storeTestReport(ctx.db, runId, report);
		return isManager(role) ? report : redactReport(report);
	});
}

function definedOnly<T extends Record<string, unknown>>(patch: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
	return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as {
		[K in keyof T]?: Exclude<T[K], undefined>;
	};
}
