import { z } from "zod";

/** Maximum source length accepted by the queue, in UTF-16 code units (zod counts them), the document's MAX_CODE_CHARS; the API refuses longer code before submitting. */
export const MAX_CODE_BYTES = 256 * 1024;
/** Maximum stdin size per input. */
export const MAX_STDIN_BYTES = 1024 * 1024;
/** Test judging runs every input in its own sandbox; this bounds the work one job can ask for. */
export const MAX_INPUTS_PER_JOB = 100;

export const runInputSchema = z.object({
	id: z.string().min(1).max(128),
	stdin: z.string().max(MAX_STDIN_BYTES),
});

/**
 * A unit of work for a runner. Limits are deliberately absent: they come from the
 * runner's configuration only, so no request field can lift a limit.
 */
/** Who submitted a job (shown to the session's participants next to the result). */
export const submitterSchema = z.object({ id: z.string().min(1).max(256), name: z.string().max(256) }).strict();

/**
 * A unit of work for a runner: a code snapshot and its inputs. A plain run has one input; test
 * judging has many. Limits are deliberately absent: they come from the runner's configuration
 * only, so no request field can widen isolation or lift a limit.
 */
export interface RunJob {
	readonly id: string;
	readonly sessionId: string;
	readonly language: string;
	readonly code: string;
	readonly inputs: readonly RunInput[];
	readonly submittedBy?: { readonly id: string; readonly name: string };
	readonly submittedAt: string;
}

export interface RunInput {
	readonly id: string;
	readonly stdin: string;
}

export const runJobSchema = z
	.object({
		id: z.string().min(1).max(128),
		sessionId: z.string().min(1).max(256),
		language: z.string().min(1).max(32),
		code: z.string().max(MAX_CODE_BYTES),
		inputs: z.array(runInputSchema).min(1).max(MAX_INPUTS_PER_JOB),
		submittedBy: submitterSchema.optional(),
		submittedAt: z.string().max(64),
	})
	.strict();

export const RUN_STATUSES = [
	"ok",
	"compile_error",
	"runtime_error",
	"timeout",
	"memory_limit",
	"output_limit",
	"internal_error",
] as const;
/** Status of one execution (CONTRACT ExecutionResult.status). */
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface CompileOutcome {
	readonly status: RunStatus;
	readonly output: string;
	readonly timeMs: number;
}

export interface InputOutcome {
	readonly inputId: string;
	readonly status: RunStatus;
	readonly stdout: string;
	readonly stderr: string;
	readonly exitCode: number | null;
	readonly signal?: string | null;
	readonly timeMs: number;
	readonly memoryKb?: number;
	/**
	 * True when a stream was cut at the output cap (status `output_limit`); the cut output ends on a
	 * UTF-8 character boundary, so it can be up to 3 bytes shorter than the cap.
	 */
	readonly truncated?: boolean;
	/** With `truncated`: the cap per stream (stdout, stderr) that was reached, bytes (runner config). */
	readonly outputLimitBytes?: number;
}
/** Another name for {@link InputOutcome}. */
export type InputRun = InputOutcome;

/** The verdict for one job: the compile step (compiled languages) and one run per input. */
export interface RunResult {
	readonly jobId: string;
	readonly sessionId: string;
	readonly language: string;
	/** The overall status: the compile status if compiling failed, else the first non-ok run status, else ok. */
	readonly status: RunStatus;
	readonly compile?: CompileOutcome;
	readonly runs: readonly InputOutcome[];
	readonly startedAt: string;
	readonly finishedAt: string;
}

export type JobState = "queued" | "running" | "done" | "failed";

export interface JobStatus {
	readonly jobId: string;
	readonly state: JobState;
	readonly result?: RunResult;
	/** Why a failed job failed (runner crashed twice, handler error). */
	readonly error?: string;
}

/**
 * The "code executed" topic: progress of a job, published to every subscriber (every sync-server
 * node), which forwards it to the session's editors. `done` and `failed` reach each subscriber
 * once per job id; a consumer that stores results still keys them by jobId (insert on conflict do
 * nothing), because a job whose runner died is re-run on another runner.
 */
export interface RunEvent {
	readonly jobId: string;
	readonly sessionId: string;
	readonly state: JobState | "progress";
	readonly completedInputs?: number;
	readonly totalInputs?: number;
	readonly result?: RunResult;
	readonly error?: string;
	readonly submittedBy?: { readonly id: string; readonly name: string };
}
/** Another name for {@link RunEvent}. */
export type RunProgressEvent = RunEvent;

/** Reports progress from inside a handler (after each input finishes). */
export type ProgressReporter = (completedInputs: number, totalInputs: number) => void;

/** What a handler gets besides its job: callable itself, and as `.progress`. */
export type RunContext = ProgressReporter & { readonly progress: ProgressReporter };

export type JobHandler = (job: RunJob, progress: RunContext) => Promise<RunResult>;
/** Another name for {@link JobHandler}. */
export type RunHandler = JobHandler;

export interface WorkerHandle {
	/** Stops taking jobs and waits for the running ones to finish. */
	close(): Promise<void>;
}
/** Another name for {@link WorkerHandle}. */
export type RunWorker = WorkerHandle;

/**
 * The queue both sides share. The in-process implementation (embedded default) and the BullMQ one
 * (REDIS_URL) pass the same contract suite (runQueue.contract.test.ts).
 */
export interface RunQueue {
	readonly kind: "in-process" | "bullmq";
	/** Validates and enqueues a job. Throws RunQueueError("invalid_job") for a malformed job. */
	submit(job: RunJob): Promise<void>;
	/** Undefined for an unknown job, or one finished longer ago than the retention period. */
	status(jobId: string): Promise<JobStatus | undefined>;
	/** Every event of every job; returns an unsubscribe function. */
	subscribe(listener: (event: RunEvent) => void): () => void;
	/** The runner side: pulls jobs and runs `handler`, at most `concurrency` at a time. */
	process(handler: JobHandler, options: { concurrency: number }): WorkerHandle;
	/** Stops workers (waiting for running jobs), drops listeners, releases connections. */
	close(): Promise<void>;
}

/** Builds the context handed to a handler from one progress function. */
export function runContext(report: ProgressReporter): RunContext {
	const fn = (completed: number, total: number): void => report(completed, total);
	return Object.assign(fn, { progress: fn });
}

/**
 * `queue_full`: the queue holds its most waiting jobs ({@link QueueBounds.maxWaiting});
 * `too_many_pending`: the submitter has its most jobs queued or running
 * ({@link QueueBounds.maxPendingPerUser}). Both are worth retrying after a while.
 */
export type RunQueueErrorCode =
	| "invalid_job"
	| "duplicate_job"
	| "closed"
	| "timeout"
	| "job_failed"
	| "queue_full"
	| "too_many_pending";

/**
 * Bounds of a queue and its fairness (RELIABILITY 48). One submitter (`submittedBy.id`) may have
 * at most `maxPendingPerUser` jobs queued or running; the queue holds at most `maxWaiting`
 * waiting jobs. Waiting jobs run in order of how many jobs their submitter had pending when
 * each was submitted, then in submission order: someone's first job goes before a flooder's
 * second, third, … (round robin between submitters).
 */
export interface QueueBounds {
	/** Waiting jobs the queue holds before submit() throws `queue_full`. */
	readonly maxWaiting?: number;
	/** Queued or running jobs per submitter before submit() throws `too_many_pending`. */
	readonly maxPendingPerUser?: number;
	/**
	 * Finished jobs `status()` remembers; the oldest are forgotten first (waiting and running ones never). Every
	 * verdict is also stored in the database: this only bounds the queue's own memory (issue 13 step 4).
	 */
	readonly retainJobs?: number;
}

/**
 * Defaults: 4 pending per user is one run, one test run and a couple of clicks ahead; 500 waiting
 * is over a minute of work for a pool of 8 boxes at typical run times, past which a waiting
 * person is better told to retry.
 */
export const DEFAULT_MAX_PENDING_PER_USER = 4;
export const DEFAULT_MAX_WAITING = 500;

/** The error type of the queue boundary. */
export class RunQueueError extends Error {
	readonly code: RunQueueErrorCode;
	constructor(code: RunQueueErrorCode, message: string, options?: { cause?: unknown }) {
		super(message, options);
		this.name = "RunQueueError";
		this.code = code;
	}
}

export function parseJob(job: unknown): RunJob {
	const parsed = runJobSchema.safeParse(job);
	if (!parsed.success) {
		throw new RunQueueError(
			"invalid_job",
			`invalid run job: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
		);
	}
	return parsed.data;
}

/** Remembers recently seen terminal job ids so a subscriber gets each verdict once. */
export class TerminalDedupe {
	private readonly seen = new Set<string>();
	private readonly capacity: number;
	constructor(capacity = 10_000) {
		this.capacity = capacity;
	}
	/** True the first time `jobId` is offered. */
	first(jobId: string): boolean {
		if (this.seen.has(jobId)) return false;
		this.seen.add(jobId);
		if (this.seen.size > this.capacity) {
			const oldest = this.seen.values().next().value;
			if (oldest !== undefined) this.seen.delete(oldest);
		}
		return true;
	}
}
