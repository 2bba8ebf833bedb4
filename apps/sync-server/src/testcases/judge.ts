import type { InputOutcome, RunResult } from "@tandem/run-queue";
import { MAX_TEST_FIELD_BYTES, MAX_TEST_REPORT_BYTES, TEST_REPORT_CUT_NOTE, TextBudget } from "../runs/resultBounds.ts";
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

/**
 * What someone who may not see hidden tests learns of a hidden test: passed or not, nothing
 * more (RELIABILITY 45). Statuses such as time-out or runtime error, times and exit codes are
 * chosen by the program and would carry bits of the hidden input.
 */
export type HiddenVerdict = "passed" | "not_passed";

export interface TestResult {
	readonly testId: string;
	readonly name: string;
	readonly passed: boolean;
	readonly status: TestVerdict | HiddenVerdict;
	readonly output?: string;
	readonly expected?: string;
	readonly error?: string;
	readonly executionTime?: number;
	/** Expected against actual, for a wrong answer. */
	readonly diff?: string;
	readonly hidden?: boolean;
	/** True when `output`, `error` or `diff` was cut to the size bounds (RELIABILITY 48). */
	readonly truncated?: boolean;
}

export interface TestReport {
	readonly runId: string;
	readonly passed: number;
	readonly total: number;
	readonly results: readonly TestResult[];
	/** Says in words what was cut when any result was truncated (RELIABILITY 48). */
	readonly note?: string;
}

function verdictOf(run: InputOutcome | undefined, expected: string): TestVerdict {
	if (!run) return "internal_error";
	if (run.status === "ok") return outputsMatch(run.stdout, expected) ? "passed" : "wrong_answer";
	if (run.status === "compile_error") return "compile_error";
	return run.status;
}

/**
 * Verdicts for every case of a finished test job (compile once; a failed compile fails all).
 * Verdicts are judged on the whole output; the texts shown are cut to MAX_TEST_FIELD_BYTES each
 * and MAX_TEST_REPORT_BYTES in all (RELIABILITY 48), and a cut result says so.
 */
export function judge(runId: string, cases: readonly JudgedCase[], result: RunResult): TestReport {
	const compileFailed = result.compile !== undefined && result.compile.status !== "ok";
	const runs = new Map(result.runs.map((r) => [r.inputId, r]));
	const budget = new TextBudget(MAX_TEST_REPORT_BYTES, MAX_TEST_FIELD_BYTES);
	const results = cases.map((c): TestResult => {
		const before = budget.cut;
		budget.cut = false;
		const full = judgeCase(c, compileFailed, result, runs.get(c.inputId));
		const shown: TestResult = {
			...full,
			...(full.output !== undefined ? { output: budget.take(full.output) } : {}),
			...(full.expected !== undefined ? { expected: budget.take(full.expected) } : {}),
			...(full.error !== undefined ? { error: budget.take(full.error) } : {}),
			...(full.diff !== undefined ? { diff: budget.take(full.diff) } : {}),
			...(budget.cut ? { truncated: true } : {}),
		};
		budget.cut ||= before;
		return shown;
	});
	return {
		runId,
		passed: results.filter((r) => r.passed).length,
		total: results.length,
		results,
		...(budget.cut ? { note: TEST_REPORT_CUT_NOTE } : {}),
	};
}

function judgeCase(
	c: JudgedCase,
	compileFailed: boolean,
	result: RunResult,
	run: InputOutcome | undefined,
): TestResult {
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
}

/**
 * Whether a role sees hidden tests and everything a run does on them: the owner and
 * interviewers (CONTRACT "Interviews"). Everyone else gets {@link redactReport}'s view.
 */
export function seesHiddenTests(role: string | null | undefined): boolean {
	return role === "owner" || role === "interviewer";
}

/**
 * The report as someone who may not see hidden tests gets it (RELIABILITY 45): a hidden test
 * shows only its number and whether it passed: no id, name, output, expected, error, diff,
 * time, exit code or kind of failure (a program could choose those to spell out the input).
 */
export function redactReport(report: TestReport): TestReport {
	let n = 0;
	const results = report.results.map((r): TestResult => {
		if (!r.hidden) return r;
		n++;
		return {
			testId: `hidden-${n}`,
			name: `hidden test ${n}`,
			passed: r.passed,
			status: r.passed ? "passed" : "not_passed",
			hidden: true,
		};
	});
	const { note: _note, ...rest } = report;
	// The note is kept only when a result the reader sees was cut.
	const keepNote = report.note !== undefined && results.some((r) => r.truncated);
	return { ...rest, results, ...(keepNote ? { note: report.note } : {}) };
}
