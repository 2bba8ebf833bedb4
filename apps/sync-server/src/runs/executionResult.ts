import type { RunResult, RunStatus } from "@tandem/run-queue";

/** Who started a run, as shown to the session's participants. */
export interface Submitter {
	readonly id: string;
	readonly name: string;
}

/** CONTRACT ExecutionResult: requirements.md's fields plus status, exitCode and a few more. */
export interface ExecutionResult {
	readonly id: string;
	readonly sessionId: string;
	readonly output: string;
	readonly error: string;
	/** Wall time of the program's run in ms (the compile step is not counted). */
	readonly executionTime: number;
	readonly status: RunStatus | string;
	readonly exitCode: number | null;
	readonly memoryKb?: number;
	readonly language: string;
	readonly createdAt: string;
	readonly submittedBy?: Submitter;
	/** The stdin the run read (the request's, else the session document's). */
	readonly stdin?: string;
}

/**
 * A single-input job's verdict as an ExecutionResult: stdout as `output`; stderr (or the
 * compiler's output when compiling failed) as `error`.
 */
export function toExecutionResult(result: RunResult, submittedBy?: Submitter, stdin?: string): ExecutionResult {
	const run = result.runs[0];
	const compileFailed = result.compile !== undefined && result.compile.status !== "ok";
	const error = compileFailed ? (result.compile?.output ?? "") : (run?.stderr ?? "");
	return {
		id: result.jobId,
		sessionId: result.sessionId,
		output: run?.stdout ?? "",
		error,
		executionTime: Math.round(run?.timeMs ?? result.compile?.timeMs ?? 0),
		status: result.status,
		exitCode: run?.exitCode ?? null,
		...(run?.memoryKb !== undefined ? { memoryKb: run.memoryKb } : {}),
		language: result.language,
		createdAt: result.finishedAt,
		...(submittedBy ? { submittedBy } : {}),
		...(stdin !== undefined ? { stdin } : {}),
	};
}
