import type { RunResult, RunStatus } from "@tandem/run-queue";
import { cutText, MAX_RUN_FIELD_BYTES } from "./resultBounds.ts";

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
	/**
	 * True when `output` or `error` was cut: by the runner at its output cap, or here at
	 * MAX_RUN_FIELD_BYTES (RELIABILITY 40, 48). Cuts fall on a character boundary.
	 */
	readonly truncated?: boolean;
	/** With `truncated`: the limit that was reached, in bytes per stream (RELIABILITY 40). */
	readonly outputLimitBytes?: number;
}

/**
 * A single-input job's verdict as an ExecutionResult: stdout as `output`; stderr (or the
 * compiler's output when compiling failed) as `error`; each cut to MAX_RUN_FIELD_BYTES, and
 * `truncated` set when either was.
 */
export function toExecutionResult(result: RunResult, submittedBy?: Submitter): ExecutionResult {
	const run = result.runs[0];
	const compileFailed = result.compile !== undefined && result.compile.status !== "ok";
	const output = cutText(run?.stdout ?? "", MAX_RUN_FIELD_BYTES);
	const error = cutText(compileFailed ? (result.compile?.output ?? "") : (run?.stderr ?? ""), MAX_RUN_FIELD_BYTES);
	return {
		id: result.jobId,
		sessionId: result.sessionId,
		output: output.text,
		error: error.text,
		executionTime: Math.round(run?.timeMs ?? result.compile?.timeMs ?? 0),
		status: result.status,
		exitCode: run?.exitCode ?? null,
		...(run?.memoryKb !== undefined ? { memoryKb: run.memoryKb } : {}),
		language: result.language,
		createdAt: result.finishedAt,
		...(submittedBy ? { submittedBy } : {}),
		...(run?.truncated
			? { truncated: true, outputLimitBytes: run.outputLimitBytes ?? MAX_RUN_FIELD_BYTES }
			: output.cut || error.cut
				? { truncated: true, outputLimitBytes: MAX_RUN_FIELD_BYTES }
				: {}),
	};
}
