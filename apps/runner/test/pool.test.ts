import { randomUUID } from "node:crypto";
import { InProcessRunQueue, type RunEvent, type RunJob, runJob } from "@tandem/run-queue";
import { afterEach, describe, expect, it } from "vitest";
import { startRunnerPool } from "../src/pool/startRunnerPool.ts";
import { defaultLimits } from "../src/sandbox/limits.ts";

function job(code: string, stdins: string[], language = "python"): RunJob {
	return {
		id: randomUUID(),
		sessionId: "pool-session",
		language,
		code,
		inputs: stdins.map((stdin, i) => ({ id: `in${i}`, stdin })),
		submittedAt: new Date().toISOString(),
	};
}

describe("runner pool on the in-process queue", () => {
	const cleanup: Array<() => Promise<void>> = [];
	afterEach(async () => {
		for (const c of cleanup.splice(0).reverse()) await c();
	});

	function start(concurrency = 2) {
		const queue = new InProcessRunQueue();
		const pool = startRunnerPool({ queue, concurrency, limits: defaultLimits() });
		cleanup.push(
			() => queue.close(),
			() => pool.close(),
		);
		return queue;
	}

	it("runs a python job in the sandbox and reports ok with its output", async () => {
		const queue = start();
		const result = await runJob(queue, job("print('hello', input())", ["tandem"]));
		expect(result.status).toBe("ok");
		expect(result.runs).toHaveLength(1);
		expect(result.runs[0]?.stdout).toBe("hello tandem\n");
		expect((await queue.status(result.jobId))?.state).toBe("done");
	});

	it("runs every input of a job and reports progress after each one", async () => {
		const queue = start();
		const events: RunEvent[] = [];
		queue.subscribe((e) => events.push(e));
		const j = job("import sys\nprint(int(sys.stdin.read()) * 2)", ["1", "2", "3"]);
		const result = await runJob(queue, j);
		expect(result.runs.map((r) => r.stdout.trim())).toEqual(["2", "4", "6"]);
		const progress = events.filter((e) => e.jobId === j.id && e.state === "progress");
		expect(progress.map((e) => e.completedInputs)).toEqual([1, 2, 3]);
		expect(progress.every((e) => e.totalInputs === 3)).toBe(true);
	});

	it("reports a user program's crash as a result, not a failed job", async () => {
		const queue = start();
		const result = await runJob(queue, job("raise SystemExit(3)", [""]));
		expect(result.status).toBe("runtime_error");
		expect(result.runs[0]?.exitCode).toBe(3);
	});

	it("refuses invalid concurrency and limits at start", () => {
		const queue = new InProcessRunQueue();
		cleanup.push(() => queue.close());
		expect(() => startRunnerPool({ queue, concurrency: 0, limits: defaultLimits() })).toThrow(/concurrency/);
		const bad = { ...defaultLimits(), run: { ...defaultLimits().run, cpuSeconds: 0 } };
		expect(() => startRunnerPool({ queue, concurrency: 1, limits: bad })).toThrow(/cpuSeconds/);
	});
});
