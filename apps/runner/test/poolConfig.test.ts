import { describe, expect, it } from "vitest";
import { loadRunnerConfig } from "../src/config.ts";
import { defaultLimits } from "../src/sandbox/limits.ts";

describe("runner config", () => {
	it("uses the defaults, one job per core, and a frozen object", () => {
		const config = loadRunnerConfig({ REDIS_URL: "redis://127.0.0.1:6379" });
		expect(config.limits).toEqual(defaultLimits());
		expect(config.concurrency).toBeGreaterThanOrEqual(1);
		expect(config.queuePrefix).toBe("tandem");
		expect(Object.isFrozen(config)).toBe(true);
	});

	it("lets limits be tightened but never lifted or set below a floor", () => {
		const tight = loadRunnerConfig({ RUNNER_RUN_CPU_SECONDS: "1", RUNNER_RUN_MEMORY_MB: "64" });
		expect(tight.limits.run.cpuSeconds).toBe(1);
		expect(tight.limits.run.memoryBytes).toBe(64 * 1024 * 1024);
		expect(() => loadRunnerConfig({ RUNNER_RUN_CPU_SECONDS: "600" })).toThrow(/RUNNER_RUN_CPU_SECONDS.*tightened/);
		expect(() => loadRunnerConfig({ RUNNER_RUN_MEMORY_MB: "1" })).toThrow(/RUNNER_RUN_MEMORY_MB/);
		expect(() => loadRunnerConfig({ RUNNER_RUN_WALL_MS: "abc" })).toThrow(/RUNNER_RUN_WALL_MS/);
	});

	it("refuses a malformed Redis URL, prefix or concurrency", () => {
		expect(() => loadRunnerConfig({ REDIS_URL: "http://x" })).toThrow(/REDIS_URL/);
		expect(() => loadRunnerConfig({ RUN_QUEUE_PREFIX: "a b" })).toThrow(/RUN_QUEUE_PREFIX/);
		expect(() => loadRunnerConfig({ RUNNER_CONCURRENCY: "0" })).toThrow(/RUNNER_CONCURRENCY/);
	});

	it("serves metrics only with METRICS_PORT, on loopback unless METRICS_HOST says otherwise", () => {
		expect(loadRunnerConfig({}).metrics).toBeUndefined();
		expect(loadRunnerConfig({ METRICS_PORT: "9464" }).metrics).toEqual({
			host: "127.0.0.1",
			port: 9464,
			token: undefined,
		});
		expect(() => loadRunnerConfig({ METRICS_PORT: "70000" })).toThrow(/METRICS_PORT/);
		expect(() => loadRunnerConfig({ METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN/);
	});
});
