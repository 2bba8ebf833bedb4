import type { RunEvent, RunJob, RunQueue } from "@tandem/run-queue";
import type { Redis } from "ioredis";
import type { ServerContext } from "../server.ts";
import { type ExecutionResult, type Submitter, toExecutionResult } from "./executionResult.ts";
import { insertExecutionResult } from "./runRepository.ts";
import { sendToSession } from "./sessionBroadcast.ts";

/** Job id prefixes: plain runs and test runs travel the same queue. */
export const RUN_JOB_PREFIX = "r";
export const TEST_JOB_PREFIX = "t";

/** Remembered per job so GET /submissions can check who may see it; bounded like the queue's retention. */
const MAX_TRACKED_JOBS = 20_000;
/**
 * A failed store is tried again after 0.2, 0.4, … s, in all for about a minute (a database
 * restart); meanwhile, and if it never succeeds, this node answers with the result from memory.
 */
const STORE_RETRY_FIRST_MS = 200;
const STORE_ATTEMPTS = 9;
/** How long a result another node writes is still answered from this node's memory (ms): the writer's retries. */
const UNCLAIMED_MEMORY_MS = 60_000;
/** How long close() waits for results still being stored. */
const CLOSE_STORE_WAIT_MS = 10_000;

export type JobEventHandler = (event: RunEvent) => Promise<void>;

/**
 * Whether this node is the one to write job `jobId`'s verdict (issue 13 step 4): every node hears every
 * event, and the first to claim the job writes it. True when the claim cannot be made (Redis down): the
 * writes are idempotent, so a doubled write is the worst case, never a lost one.
 */
export type StoreClaim = (jobId: string) => Promise<boolean>;

/** How long a job's write claim lives in Redis (s): far longer than a job's events keep arriving. */
export const STORE_CLAIM_TTL_SECONDS = 3600;

/** Claims in Redis (`SET key NX EX`) under `prefix`; with no Redis (one node) every claim succeeds. */
export function redisStoreClaim(redis: Redis | undefined, prefix: string): StoreClaim {
	if (!redis) return async () => true;
	return async (jobId) => {
		try {
			return (await redis.set(`${prefix}:run-stored:${jobId}`, "1", "EX", STORE_CLAIM_TTL_SECONDS, "NX")) === "OK";
		} catch {
			return true;
		}
	};
}

function log(fields: Record<string, unknown>): void {
	console.error(JSON.stringify({ time: new Date().toISOString(), level: "error", ...fields }));
}

/**
 * This node's view of the run queue: submits jobs, and on every queue event (each node gets
 * every event itself) stores finished runs idempotently and tells this node's connections of
 * the session. Test runs are handed to the handler registered for their prefix.
 */
export class RunHub {
	readonly queue: RunQueue;
	private readonly ctx: ServerContext;
	private readonly jobs = new Map<string, { sessionId: string; submittedBy?: Submitter; stdin?: string }>();
	private readonly handlers = new Map<string, JobEventHandler>();
	private readonly unsubscribe: () => void;
	/** Results handed out but not stored yet (bounded like `jobs`), and ids stored recently. */
	private readonly unstored = new Map<string, { result: ExecutionResult; stored: Promise<void> }>();
	private readonly storedIds = new Set<string>();
	private closed = false;

	/** Whether this node writes a job's verdict (one node does). */
	readonly claim: StoreClaim;

	constructor(ctx: ServerContext, queue: RunQueue, claim: StoreClaim = async () => true) {
		this.ctx = ctx;
		this.queue = queue;
		this.claim = claim;
		this.unsubscribe = queue.subscribe((event) => {
			this.track(event.jobId, event.sessionId, event.submittedBy);
			this.handle(event).catch((e: unknown) => log({ msg: "run event failed", jobId: event.jobId, err: String(e) }));
		});
	}

	/** Handle events of jobs whose id starts with `prefix` (test runs). */
	on(prefix: string, handler: JobEventHandler): void {
		this.handlers.set(prefix, handler);
	}

	/** The session a known job belongs to (submitted here, or seen in an event). */
	jobSession(jobId: string): string | undefined {
		return this.jobs.get(jobId)?.sessionId;
	}

	/** Remember a job taken by this node (its submitter and stdin) before it is queued. */
	remember(job: RunJob): void {
		this.track(job.id, job.sessionId, job.submittedBy, job.inputs.length === 1 ? job.inputs[0]?.stdin : undefined);
	}

	async submit(job: RunJob): Promise<void> {
		this.remember(job);
		await this.queue.submit(job);
	}

	/**
	 * Store a finished run once on this node, without making the caller wait: the verdict is
	 * answered and sent first. Until the row exists, {@link unstoredResult} and
	 * {@link unstoredResults} serve it; a failing store is logged and tried again.
	 */
	store(result: ExecutionResult): Promise<void> {
		if (this.storedIds.has(result.id)) return Promise.resolve();
		const pending = this.unstored.get(result.id);
		if (pending) return pending.stored;
		const stored = this.insertWithRetry(result);
		this.unstored.set(result.id, { result, stored });
		if (this.unstored.size > MAX_TRACKED_JOBS) {
			const oldest = this.unstored.keys().next().value;
			if (oldest !== undefined) this.unstored.delete(oldest);
		}
		return stored;
	}

	/** A result answered on this node whose row is not in the database yet. */
	unstoredResult(jobId: string): ExecutionResult | undefined {
		return this.unstored.get(jobId)?.result;
	}

	/** A session's results answered on this node whose rows are not in the database yet. */
	unstoredResults(sessionId: string): ExecutionResult[] {
		return [...this.unstored.values()].map((u) => u.result).filter((r) => r.sessionId === sessionId);
	}

	/** Stop listening and wait (bounded) for results still being stored. */
	async close(): Promise<void> {
		this.closed = true;
		this.unsubscribe();
		const pending = Promise.all([...this.unstored.values()].map((u) => u.stored));
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([pending, new Promise((r) => (timer = setTimeout(r, CLOSE_STORE_WAIT_MS)))]);
		clearTimeout(timer);
	}

	private async insertWithRetry(result: ExecutionResult): Promise<void> {
		if (!(await this.claim(result.id))) {
			// Another node writes it; this node answers from memory until that row surely exists.
			setTimeout(() => this.unstored.delete(result.id), UNCLAIMED_MEMORY_MS).unref();
			return;
		}
		// After the answer is written: an embedded database (PGlite) runs the insert on this thread.
		await new Promise((r) => setImmediate(r));
		for (let attempt = 1; ; attempt++) {
			try {
				await insertExecutionResult(this.ctx.db, result);
				this.ctx.metrics.runs.countStored("run");
				this.unstored.delete(result.id);
				this.storedIds.add(result.id);
				if (this.storedIds.size > MAX_TRACKED_JOBS) {
					const oldest = this.storedIds.values().next().value;
					if (oldest !== undefined) this.storedIds.delete(oldest);
				}
				return;
			} catch (e: unknown) {
				const last = attempt >= STORE_ATTEMPTS || this.closed;
				log({
					msg: last ? "run result not stored" : "storing a run result failed; retrying",
					jobId: result.id,
					attempt,
					err: String(e),
				});
				if (last) return;
				await new Promise((r) => setTimeout(r, STORE_RETRY_FIRST_MS * 2 ** (attempt - 1)).unref());
			}
		}
	}

	private track(jobId: string, sessionId: string, submittedBy?: Submitter, stdin?: string): void {
		if (this.jobs.has(jobId)) return;
		this.jobs.set(jobId, {
			sessionId,
			...(submittedBy ? { submittedBy } : {}),
			...(stdin !== undefined ? { stdin } : {}),
		});
		if (this.jobs.size > MAX_TRACKED_JOBS) {
			const oldest = this.jobs.keys().next().value;
			if (oldest !== undefined) this.jobs.delete(oldest);
		}
	}

	private async handle(event: RunEvent): Promise<void> {
		const handler = this.handlers.get(event.jobId.slice(0, 1));
		if (event.jobId.startsWith(TEST_JOB_PREFIX)) {
			if (handler) await handler(event);
			return;
		}
		if (event.state === "progress") return;
		const known = this.jobs.get(event.jobId);
		const by = event.submittedBy ?? known?.submittedBy;
		const result =
			event.state === "done" && event.result ? toExecutionResult(event.result, by, known?.stdin) : undefined;
		if (result) void this.store(result);
		const payload = JSON.stringify({
			type: "run",
			submissionId: event.jobId,
			state: event.state,
			...(by ? { by } : {}),
			...(result ? { result } : {}),
			...(event.error ? { error: event.error } : {}),
		});
		sendToSession(this.ctx.hocuspocus, event.sessionId, () => payload);
	}
}
