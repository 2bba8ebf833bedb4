import type { InputOutcome, RunResult } from "@tandem/run-queue";
import { diffOutputs, outputsMatch } from "./matchOutput.ts";

/** One test as judged: a snapshot taken when the run was submitted. */
export interface JudgedCase {
	/** The job's input id (index-based, so it says nothing about the test). */
	readonly inputId: string;
	readonly testId: string;
	readonly name: string;
	readonly expected: string;
	readonly hidden: boolean;
}

export type TestVerdict =
	| "passed"
	| "wrong_answer"
	| "timeout"
	| "runtime_error"
	| "memory_limit"
	| "output_limit"
	| "compile_error"
	| "internal_error";

export interface TestResult {
	readonly testId: string;
	readonly name: string;
	readonly passed: boolean;
	readonly status: TestVerdict;
	readonly output?: string;
	readonly expected?: string;
	readonly error?: string;
	readonly executionTime?: number;
	/** Expected against actual, for a wrong answer. */
	readonly diff?: string;
	readonly hidden?: boolean;
}

export interface TestReport {
	readonly runId: string;
	readonly passed: number;
	readonly total: number;
	readonly results: readonly TestResult[];
}

function verdictOf(run: InputOutcome | undefined, expected: string): TestVerdict {
	if (!run) return "internal_error";
	if (run.status === "ok") return outputsMatch(run.stdout, expected) ? "passed" : "wrong_answer";
	if (run.status === "compile_error") return "compile_error";
	return run.status;
}

/** Verdicts for every case of a finished test job (compile once; a failed compile fails all). */
export function judge(runId: string, cases: readonly JudgedCase[], result: RunResult): TestReport {
	const compileFailed = result.compile !== undefined && result.compile.status !== "ok";
	const runs = new Map(result.runs.map((r) => [r.inputId, r]));
	const results = cases.map((c): TestResult => {
		if (compileFailed) {
			return {
				testId: c.testId,
				name: c.name,
				passed: false,
				status: "compile_error",
				output: "",
				expected: c.expected,
				error: result.compile?.output ?? "",
				executionTime: 0,
				hidden: c.hidden,
			};
		}
		const run = runs.get(c.inputId);
		const status = verdictOf(run, c.expected);
		return {
			testId: c.testId,
			name: c.name,
			passed: status === "passed",
			status,
			output: run?.stdout ?? "",
			expected: c.expected,
			error: run?.stderr ?? "",
			executionTime: Math.round(run?.timeMs ?? 0),
			...(status === "wrong_answer" ? { diff: diffOutputs(c.expected, run?.stdout ?? "") } : {}),
			hidden: c.hidden,
		};
	});
	return { runId, passed: results.filter((r) => r.passed).length, total: results.length, results };
}

/**
 * The report as someone other than the owner may see it: a hidden test shows only its
 * number and verdict: no id, name, output, expected, error or diff.
 */
export function redactReport(report: TestReport): TestReport {
	let n = 0;
	return {
		...report,
		results: report.results.map((r): TestResult => {
			if (!r.hidden) return r;
			n++;
			return { testId: `hidden-${n}`, name: `hidden test ${n}`, passed: r.passed, status: r.status, hidden: true };
		}),
	};
}
