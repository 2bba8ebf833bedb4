import { type RunJob, RunQueueError, runJob } from "@tandem/run-queue";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { nanoid } from "nanoid";
import { z } from "zod";
import { ApiError, parseInput } from "../http/errors.ts";
import type { ServerContext } from "../server.ts";
import { canRun, runRefusal } from "../sessions/roles.ts";
import { requireSessionRole } from "../sessions/sessionAccess.ts";
import { isSessionId } from "../sessions/sessionIds.ts";
import { shownName } from "../sessions/sessionRepository.ts";
import { redactReport, seesHiddenTests } from "../testcases/judge.ts";
import { findTestRun } from "../testcases/testRunRepository.ts";
import { type ExecutionResult, toExecutionResult } from "./executionResult.ts";
import { RUN_JOB_PREFIX, type RunHub, TEST_JOB_PREFIX } from "./RunHub.ts";
import type { RunRateCheck } from "./runLimits.ts";
import { findExecutionResult, findSessionAndRole, listExecutionResults, type RunSession } from "./runRepository.ts";
import { checkSize, MAX_STDIN_BYTES, RUN_BODY_LIMIT_BYTES, resolveRunSource } from "./runSource.ts";

/** A language whose toolchain is installed where the runners run. */
export interface InstalledLanguage {
	readonly id: string;
	readonly name: string;
	readonly version: string;
}

/** What the run routes need besides the server context. */
export interface RunAccess {
	/** Null when no runner can be reached; `unavailableReason` says why in words. */
	readonly hub: RunHub | null;
	readonly unavailableReason: string;
	/** Installed toolchains (GET /languages). */
	readonly languages: () => Promise<readonly InstalledLanguage[]>;
	/** How long POST /execute-code and /run-tests wait for a verdict. */
	readonly waitMs: number;
	/** The per-user and per-session run rates (RELIABILITY 48): throws a 429 past either. */
	readonly checkRate: RunRateCheck;
}

const runBody = z.object({
	sessionId: z.string().min(1, "sessionId is required").max(256),
	language: z.string().max(64).optional(),
	code: z.string().optional(),
	stdin: z.string().optional(),
});

const idParams = z.object({ id: z.string().min(1).max(128) });
const sessionParams = z.object({ sessionId: z.string().max(256) });
const RECENT_RUNS = 50;

/** The hub, or 503 with the reason no runner is available. */
export function requireHub(access: RunAccess): RunHub {
	if (!access.hub) throw new ApiError("unavailable", access.unavailableReason);
	return access.hub;
}

/** Seconds to wait, told with a 429 for too many pending runs: about one run's time. */
const PENDING_RETRY_AFTER_S = 5;
/** Seconds to wait, told with a 503 when the queue is full. */
const FULL_RETRY_AFTER_S = 15;

/**
 * Map a queue failure to an answer in words: the queue's bounds (RELIABILITY 48) to 429 (this
 * user's runs already waiting) or 503 (the queue is full), both with Retry-After; a run that did
 * not finish to 503. `failedMessage` replaces the failure's own words for a reader who may not
 * see them (a test run with hidden tests, RELIABILITY 45).
 */
export function queueFailure(e: unknown, failedMessage?: string): never {
	if (e instanceof RunQueueError && e.code === "too_many_pending") {
		throw new ApiError("rate_limited", `Wait for your runs to finish: ${e.message}`, {
			cause: e,
			headers: { "retry-after": String(PENDING_RETRY_AFTER_S) },
		});
	}
	if (e instanceof RunQueueError && e.code === "queue_full") {
		throw new ApiError("unavailable", `Too many runs are waiting; try again shortly (${e.message})`, {
			cause: e,
			headers: { "retry-after": String(FULL_RETRY_AFTER_S) },
		});
	}
	if (e instanceof RunQueueError && (e.code === "job_failed" || e.code === "timeout" || e.code === "closed")) {
		throw new ApiError("unavailable", failedMessage ?? `The run did not finish: ${e.message}`, { cause: e });
	}
	throw e;
}

/**
 * The session of a run, for a user already authenticated: requireSessionRole's checks and
 * answers in one query. Viewers never run, editors not while the interview is ended (403).
 */
async function runnableSession(ctx: ServerContext, sessionId: string, userId: string): Promise<RunSession> {
	const found = isSessionId(sessionId) ? await findSessionAndRole(ctx.db, sessionId, userId) : undefined;
	if (!found) throw new ApiError("not_found", "Session not found");
	if (!found.role) throw new ApiError("forbidden", "You are not a participant of this session");
	if (!canRun(found.role, found.session.endedAt !== null)) throw new ApiError("forbidden", runRefusal(found.role));
	return found.session;
}

/** Newest first, as listExecutionResults orders them. */
function newestFirst(a: ExecutionResult, b: ExecutionResult): number {
	if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
	return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * POST /execute-code, POST /submit-code, GET /submissions/{id}, GET /session/{id}/runs,
 * GET /languages. The owner, interviewers and editors run (editors not while the interview is
 * ended); viewers only read. A run without `stdin` reads the session document's stdin.
 */
export function registerRunRoutes(app: FastifyInstance, ctx: ServerContext, access: RunAccess): void {
	async function prepare(request: Parameters<typeof ctx.requireUser>[0]): Promise<RunJob> {
		const user = await ctx.requireUser(request);
		const body = parseInput(runBody, request.body);
		const session = await runnableSession(ctx, body.sessionId, user.id);
		requireHub(access);
		await access.checkRate(request, user.id, session.id);
		const { language, code, stdin } = await resolveRunSource(ctx, session, body);
		checkSize("stdin", stdin, MAX_STDIN_BYTES);
		const job: RunJob = {
			id: `${RUN_JOB_PREFIX}${nanoid(24)}`,
			sessionId: session.id,
			language,
			code,
			inputs: [{ id: "stdin", stdin }],
			submittedBy: { id: user.id, name: shownName(user) },
			submittedAt: new Date().toISOString(),
		};
		access.hub?.remember(job);
		return job;
	}

	app.post("/execute-code", { bodyLimit: RUN_BODY_LIMIT_BYTES }, async (request) => {
		const job = await prepare(request);
		const hub = requireHub(access);
		const verdict = await runJob(hub.queue, job, { timeoutMs: access.waitMs }).catch((e: unknown) => queueFailure(e));
		const result = toExecutionResult(verdict, job.submittedBy, job.inputs[0]?.stdin);
		// Stored after the answer (the hub stores each verdict once; until then it answers from memory).
		void hub.store(result);
		return result;
	});

	app.post("/submit-code", { bodyLimit: RUN_BODY_LIMIT_BYTES }, async (request, reply) => {
		const job = await prepare(request);
		await requireHub(access)
			.submit(job)
			.catch((e: unknown) => queueFailure(e));
		reply.status(202);
		return { submissionId: job.id };
	});

	/**
	 * A test run by its id: its status, and once judged its report as the reader may see it
	 * (RELIABILITY 45): never the queue's raw result, which holds the output on hidden tests.
	 */
	async function testRunSubmission(request: FastifyRequest, id: string): Promise<Record<string, unknown>> {
		const run = await findTestRun(ctx.db, id);
		if (!run) throw new ApiError("not_found", "No such submission");
		const { role } = await requireSessionRole(ctx, request, run.sessionId);
		if (run.report) {
			return { status: "done", report: seesHiddenTests(role) ? run.report : redactReport(run.report) };
		}
		const status = await access.hub?.queue.status(id);
		if (!status) throw new ApiError("not_found", "No such submission");
		// A verdict not judged yet, or a failure's words, are not shown: "running" until judged.
		return { status: status.state === "done" ? "running" : status.state };
	}

	app.get("/submissions/:id", async (request) => {
		const user = await ctx.requireUser(request);
		const { id } = parseInput(idParams, request.params);
		if (id.startsWith(TEST_JOB_PREFIX)) return testRunSubmission(request, id);
		const stored = access.hub?.unstoredResult(id) ?? (await findExecutionResult(ctx.db, id));
		const sessionId = stored?.sessionId ?? access.hub?.jobSession(id);
		if (!sessionId) throw new ApiError("not_found", "No such submission");
		await requireSessionRole(ctx, request, sessionId);
		void user;
		if (stored) return { status: "done", result: stored };
		const status = await access.hub?.queue.status(id);
		if (!status) throw new ApiError("not_found", "No such submission");
		if (status.state === "done" && status.result && id.startsWith(RUN_JOB_PREFIX)) {
			return { status: "done", result: toExecutionResult(status.result) };
		}
		return { status: status.state, ...(status.error ? { error: status.error } : {}) };
	});

	app.get("/session/:sessionId/runs", async (request) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		await requireSessionRole(ctx, request, sessionId);
		const unstored = access.hub?.unstoredResults(sessionId) ?? [];
		const stored = await listExecutionResults(ctx.db, sessionId, RECENT_RUNS);
		if (unstored.length === 0) return { runs: stored };
		const ids = new Set(unstored.map((r) => r.id));
		const runs = [...unstored, ...stored.filter((r) => !ids.has(r.id))].sort(newestFirst).slice(0, RECENT_RUNS);
		return { runs };
	});

	app.get("/languages", async () => {
		if (!access.hub) throw new ApiError("unavailable", access.unavailableReason);
		return access.languages();
	});
}
