import { z } from "zod";

/** Maximum source size accepted by the queue; the API should refuse larger code before submitting. */
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
export const runJobSchema = z
	.object({
		id: z.string().min(1).max(128),
		sessionId: z.string().min(1).max(256),
		language: z.string().min(1).max(32),
		code: z.string().max(MAX_CODE_BYTES),
		inputs: z.array(runInputSchema).min(1).max(MAX_INPUTS_PER_JOB),
		submittedBy: z.string().max(256).optional(),
		submittedAt: z.string(),
	})
	.strict();

export type RunInput = z.infer<typeof runInputSchema>;
export type RunJob = z.infer<typeof runJobSchema>;

export const RUN_STATUSES = [
	"ok",
	"compile_error",
	"runtime_error",
	"timeout",
	"memory_limit",
	"output_limit",
	"internal_error",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface CompileOutcome {
	status: RunStatus;
	output: string;
	timeMs: number;
}

export interface InputRun {
	inputId: string;
	status: RunStatus;
	stdout: string;
	stderr: string;
	exitCode: number | null;
	signal?: string;
	timeMs: number;
	memoryKb?: number;
	truncated?: boolean;
}

/** The verdict for one job: the compile step (compiled languages) and one run per input. */
export interface RunResult {
	jobId: string;
	sessionId: string;
	language: string;
	/** The overall status: the compile status if compiling failed, else the first non-ok run status. */
	status: RunStatus;
	compile?: CompileOutcome;
	runs: InputRun[];
	startedAt: string;
	finishedAt: string;
}

export type JobState = "queued" | "running" | "done" | "failed";

export interface JobStatus {
	jobId: string;
	state: JobState;
	result?: RunResult;
	/** Why a failed job failed (runner crashed twice, handler error). */
	error?: string;
}

/** The "code executed" topic: every sync-server node subscribes and forwards to the session's editors. */
export interface RunProgressEvent {
	jobId: string;
	sessionId: string;
	state: "queued" | "running" | "progress" | "done" | "failed";
	completedInputs?: number;
	totalInputs?: number;
	result?: RunResult;
	error?: string;
}

export interface RunContext {
	/** Report that `completed` of `total` inputs have finished. */
	progress(completed: number, total: number): void;
}

export type RunHandler = (job: RunJob, ctx: RunContext) => Promise<RunResult>;

export interface RunWorker {
	close(): Promise<void>;
}

/** One queue contract, two implementations: in-process and BullMQ on Redis. */
export interface RunQueue {
	readonly kind: "in-process" | "bullmq";
	/** Validates and enqueues a job. Throws RunQueueError("invalid_job") for a malformed job. */
	submit(job: RunJob): Promise<void>;
	status(jobId: string): Promise<JobStatus | undefined>;
	/** Every progress event of every job. Terminal events (done, failed) arrive once per job. */
	subscribe(listener: (event: RunProgressEvent) => void): () => void;
	/** The runner side: pulls jobs and runs `handler`, at most `concurrency` at a time. */
	process(handler: RunHandler, opts: { concurrency: number }): RunWorker;
	close(): Promise<void>;
}

export type RunQueueErrorCode = "invalid_job" | "duplicate_job" | "closed" | "timeout" | "job_failed";

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
