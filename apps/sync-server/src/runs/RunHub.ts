import type { RunEvent, RunJob, RunQueue } from "@tandem/run-queue";
import type { ServerContext } from "../server.ts";
import { type Submitter, toExecutionResult } from "./executionResult.ts";
import { insertExecutionResult } from "./runRepository.ts";
import { sendToSession } from "./sessionBroadcast.ts";

/** Job id prefixes: plain runs and test runs travel the same queue. */
export const RUN_JOB_PREFIX = "r";
export const TEST_JOB_PREFIX = "t";

/** Remembered per job so GET /submissions can check who may see it; bounded like the queue's retention. */
const MAX_TRACKED_JOBS = 20_000;

export type JobEventHandler = (event: RunEvent) => Promise<void>;

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
	private readonly jobs = new Map<string, { sessionId: string; submittedBy?: Submitter }>();
	private readonly handlers = new Map<string, JobEventHandler>();
	private readonly unsubscribe: () => void;

	constructor(ctx: ServerContext, queue: RunQueue) {
		this.ctx = ctx;
		this.queue = queue;
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

	async submit(job: RunJob): Promise<void> {
		this.track(job.id, job.sessionId, job.submittedBy);
		await this.queue.submit(job);
	}

	close(): void {
		this.unsubscribe();
	}

	private track(jobId: string, sessionId: string, submittedBy?: Submitter): void {
		if (this.jobs.has(jobId)) return;
		this.jobs.set(jobId, submittedBy ? { sessionId, submittedBy } : { sessionId });
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
		const by = event.submittedBy ?? this.jobs.get(event.jobId)?.submittedBy;
		const result = event.state === "done" && event.result ? toExecutionResult(event.result, by) : undefined;
		if (result) await insertExecutionResult(this.ctx.db, result);
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
