import type { RunResult } from "@tandem/run-queue";
import { describe, expect, it } from "vitest";
import { type JudgedCase, judge, redactReport } from "./judge.ts";

const cases: JudgedCase[] = [
	{ inputId: "c0", testId: "v1", name: "visible", expected: "1", hidden: false },
	{ inputId: "c1", testId: "secret-id", name: "secret name", expected: "SECRET-EXPECTED", hidden: true },
];

function result(runs: RunResult["runs"], compile?: RunResult["compile"]): RunResult {
	return {
		jobId: "t1",
		sessionId: "s",
		language: "python",
		status: "ok",
		runs,
		...(compile ? { compile } : {}),
		startedAt: "",
		finishedAt: "",
	};
}

const run = (inputId: string, stdout: string, status: "ok" | "timeout" = "ok") => ({
	inputId,
	status,
	stdout,
	stderr: "",
	exitCode: 0,
	timeMs: 5,
});

describe("judge", () => {
	it("passes matching output and flags a wrong answer with a diff", () => {
		const report = judge("t1", cases, result([run("c0", "1  \n"), run("c1", "nope")]));
		expect(report.passed).toBe(1);
		expect(report.results[0]?.status).toBe("passed");
		expect(report.results[1]).toMatchObject({ status: "wrong_answer", passed: false });
		expect(report.results[1]?.diff).toContain("- SECRET-EXPECTED");
	});

	it("keeps the run status for a time-out", () => {
		const report = judge("t1", cases, result([run("c0", "", "timeout"), run("c1", "SECRET-EXPECTED")]));
		expect(report.results[0]?.status).toBe("timeout");
		expect(report.results[1]?.status).toBe("passed");
	});

	it("fails every test with compile_error when compiling failed", () => {
		const report = judge("t1", cases, result([], { status: "compile_error", output: "bad", timeMs: 1 }));
		expect(report.results.map((r) => r.status)).toEqual(["compile_error", "compile_error"]);
		expect(report.passed).toBe(0);
	});
});

describe("redactReport", () => {
	it("leaves hidden tests only a number and a verdict", () => {
		const full = judge("t1", cases, result([run("c0", "1"), run("c1", "leaked?")]));
		const redacted = redactReport(full);
		const text = JSON.stringify(redacted);
		for (const secret of ["secret-id", "secret name", "SECRET-EXPECTED", "leaked?"]) expect(text).not.toContain(secret);
		expect(redacted.results[1]).toEqual({
			testId: "hidden-1",
			name: "hidden test 1",
			passed: false,
			status: "not_passed",
			hidden: true,
		});
		expect(redacted.results[0]).toEqual(full.results[0]);
	});

	it("RELIABILITY 48: cuts each shown text to 64 KiB and a report to 1 MiB at a character boundary, and says so", () => {
		const many = Array.from({ length: 20 }, (_, i) => ({
			inputId: `c${i}`,
			testId: `t${i}`,
			name: `t${i}`,
			expected: "e",
			hidden: false,
		}));
		const big = "é".repeat(1024 * 1024);
		const report = judge("t1", many, result(many.map((c) => run(c.inputId, big))));
		const bytes = Buffer.byteLength(JSON.stringify(report));
		expect(bytes).toBeLessThan(1.1 * 1024 * 1024);
		expect(report.note).toMatch(/cut/);
		expect(report.results[0]?.truncated).toBe(true);
		expect(report.results[0]?.status).toBe("wrong_answer");
		const shown = report.results[0]?.output ?? "";
		expect(Buffer.byteLength(shown)).toBeLessThanOrEqual(64 * 1024);
		expect(shown).toBe("é".repeat(shown.length));
		expect(report.results.at(-1)?.truncated).toBe(true);
	});
});
