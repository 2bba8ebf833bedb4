/** Status of one execution (CONTRACT ExecutionResult.status). */
export type RunStatus =
	| "ok"
	| "compile_error"
	| "runtime_error"
	| "timeout"
	| "memory_limit"
	| "output_limit"
	| "internal_error";

/** One stdin to run the compiled program against. A plain run has one; test judging has many. */
export interface RunInput {
	readonly id: string;
	readonly stdin: string;
}

/**
 * A job: a code snapshot and its inputs. Limits are not part of a job: they come from the
 * runner's configuration only, so no request field can widen isolation or lift a limit.
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
	/** True when a stream was cut at the output cap. */
	readonly truncated?: boolean;
}

export interface RunResult {
	readonly jobId: string;
	readonly sessionId: string;
	readonly language: string;
	/** Overall status: compile_error when compiling failed, else the first non-ok input's status, else ok. */
	readonly status: RunStatus;
	readonly compile?: CompileOutcome;
	readonly runs: readonly InputOutcome[];
	readonly startedAt: string;
	readonly finishedAt: string;
}

export type JobState = "queued" | "running" | "done" | "failed";

/** The "code executed" topic: progress of a job, published to every subscriber (every sync-server node). */
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

export interface JobStatus {
	readonly state: JobState;
	readonly result?: RunResult;
	readonly error?: string;
}

/** Reports progress from inside a handler (after each input finishes). */
export type ProgressReporter = (completedInputs: number, totalInputs: number) => void;

export type JobHandler = (job: RunJob, progress: ProgressReporter) => Promise<RunResult>;

export interface WorkerHandle {
	close(): Promise<void>;
}

/**
 * The queue both sides share. The in-process implementation (embedded default) and the BullMQ one
 * (REDIS_URL) pass the same contract suite.
 */
export interface RunQueue {
	submit(job: RunJob): Promise<void>;
	status(jobId: string): Promise<JobStatus | undefined>;
	/** Subscribe to every job's events; returns an unsubscribe function. */
	subscribe(listener: (event: RunEvent) => void): () => void;
	/** Runner side: pull jobs and run them with the handler. */
	process(handler: JobHandler, options: { concurrency: number }): WorkerHandle;
	close(): Promise<void>;
}
