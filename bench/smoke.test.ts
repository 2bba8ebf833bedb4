import { describe, expect, it } from "vitest";
import type { ConnectionChecks } from "./connections.bench.ts";
import type { FanoutChecks } from "./fanout.bench.ts";
import { type BenchOutcome, benchFiles, renderReport, runBenchmarks } from "./run.ts";
import type { TraceChecks } from "./trace.bench.ts";

// Smoke of every benchmark: shapes and correctness only, never a time (speed lives in docs/PERFORMANCE.md).
describe("benchmark smoke", () => {
	let outcomes: BenchOutcome[] = [];
	const byFile = (file: string) => outcomes.find((o) => o.file === file);

	it("runs every bench/*.bench.ts without an error and renders a report with their tables", {
		timeout: 600_000,
	}, async () => {
		outcomes = await runBenchmarks({ smoke: true });
		expect(outcomes.map((o) => o.file)).toEqual(benchFiles());
		for (const outcome of outcomes) {
			expect(outcome.error, outcome.file).toBeUndefined();
			expect(outcome.title.length, outcome.file).toBeGreaterThan(0);
			expect(outcome.markdown, outcome.file).toMatch(/^\| .+ \|$/m);
		}
		const report = renderReport(outcomes);
		expect(report).toContain("## Machine");
		expect(report).toMatch(/\| Node \| v24\./);
		for (const outcome of outcomes) expect(report).toContain(`## ${outcome.title}`);
	});

	it("delivers the trace to the second client and into storage exactly (text = endContent)", () => {
		const checks = byFile("trace.bench.ts")?.result?.checks as TraceChecks;
		expect(checks.edits).toBeGreaterThan(1000);
		expect(checks.results.map((r) => r.mode)).toEqual(["keystroke", "batched"]);
		for (const r of checks.results) {
			expect(r.restEqual).toBe(true);
			expect(r.storedEqual).toBe(true);
			expect(r.storedBytes).toBeGreaterThan(checks.endLength);
			expect(r.writer.sentBytes).toBeGreaterThan(checks.endLength);
			expect(r.reader.receivedBytes).toBeGreaterThan(checks.endLength);
		}
		// Batching merges keystrokes: fewer messages than edits.
		const batched = checks.results.find((r) => r.mode === "batched");
		expect(batched?.writer.sentMessages).toBeLessThan(checks.edits);
	});

	it("delivers every fan-out update to every other client of its document on all three servers", () => {
		const checks = byFile("fanout.bench.ts")?.result?.checks as FanoutChecks;
		expect(new Set(checks.results.map((r) => r.server))).toEqual(new Set(["tandem", "hocuspocus", "y-websocket"]));
		for (const r of checks.results) {
			expect(r.updatesSent, r.server).toBeGreaterThan(0);
			expect(r.delivered, r.server).toBe(r.expectedDeliveries);
			expect(r.p99Ms, r.server).toBeGreaterThanOrEqual(r.p50Ms);
			expect(r.cpuMicrosPerDelivery, r.server).toBeGreaterThanOrEqual(0);
		}
	});

	it("opens every idle connection and the server closes every socket afterwards, twice", () => {
		const checks = byFile("connections.bench.ts")?.result?.checks as ConnectionChecks;
		expect(checks.target).toBe(checks.requested);
		expect(checks.cycles).toHaveLength(2);
		for (const cycle of checks.cycles) {
			expect(cycle.failed).toBe(0);
			expect(cycle.opened).toBe(checks.target);
			expect(cycle.fdsOpen).toBeGreaterThanOrEqual(checks.fdsStart + cycle.opened);
			expect(cycle.fdsAfterClose).toBeLessThan(checks.fdsStart + cycle.opened / 2);
		}
	});
});
