import { describe, expect, it } from "vitest";
import { type BenchOutcome, renderReport, spliceReport } from "./run.ts";

const outcome = (file: string, title: string, markdown: string): BenchOutcome => ({
	file,
	title,
	markdown,
	seconds: 3,
});

describe("spliceReport", () => {
	const whole = renderReport([
		outcome("a.bench.ts", "Alpha", "| a | 1 |"),
		outcome("b.bench.ts", "Beta", "| b | 1 |"),
		outcome("c.bench.ts", "Gamma", "| c | 1 |"),
	]);

	it("replaces only the rerun section, marks it, and keeps the others in place", () => {
		const spliced = spliceReport(whole, [outcome("b.bench.ts", "Beta", "| b | 2 |")]);
		expect(spliced).toContain("| a | 1 |");
		expect(spliced).toContain("| c | 1 |");
		expect(spliced).toContain("| b | 2 |");
		expect(spliced).not.toContain("| b | 1 |");
		expect(spliced).toContain("rerun on its own (`node bench/run.ts --only b`)");
		expect(spliced.indexOf("## Alpha")).toBeLessThan(spliced.indexOf("## Beta"));
		expect(spliced.indexOf("## Beta")).toBeLessThan(spliced.indexOf("## Gamma"));
		expect(spliced.split("## Beta").length).toBe(2);
	});

	it("replaces the last section and appends a new one", () => {
		const spliced = spliceReport(whole, [
			outcome("c.bench.ts", "Gamma", "| c | 3 |"),
			outcome("d.bench.ts", "Delta", "| d | 1 |"),
		]);
		expect(spliced).toContain("| c | 3 |");
		expect(spliced).not.toContain("| c | 1 |");
		expect(spliced.indexOf("## Gamma")).toBeLessThan(spliced.indexOf("## Delta"));
		expect(spliced).toContain("| b | 1 |");
	});
});
