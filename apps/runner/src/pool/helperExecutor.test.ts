import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import type { RunJob } from "@tandem/run-queue";
import { afterEach, describe, expect, it } from "vitest";
import { defaultLimits } from "../sandbox/limits.ts";
import { type HelperExecutor, startHelperExecutor } from "./helperExecutor.ts";

function job(code: string, stdins: string[]): RunJob {
	return {
		id: randomUUID(),
		sessionId: "helper-session",
		language: "python",
		code,
		inputs: stdins.map((stdin, i) => ({ id: `in${i}`, stdin })),
		submittedAt: new Date().toISOString(),
	};
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

async function until(check: () => boolean): Promise<void> {
	while (!check()) await new Promise((r) => setTimeout(r, 20));
}

describe("box helper process", () => {
	const executors: HelperExecutor[] = [];
	afterEach(async () => {
		for (const e of executors.splice(0)) await e.close();
	});
	function start(): HelperExecutor {
		const executor = startHelperExecutor();
		executors.push(executor);
		return executor;
	}

	it("runs a job's inputs in boxes spawned by another process and relays progress", async () => {
		const executor = start();
		const progress: number[][] = [];
		const result = await executor.execute(job("print(input() * 2)", ["a", "b"]), defaultLimits(), (done, total) =>
			progress.push([done, total]),
		);
		expect(result.status).toBe("ok");
		expect(result.runs.map((r) => r.stdout)).toEqual(["aa\n", "bb\n"]);
		expect(progress).toEqual([
			[1, 2],
			[2, 2],
		]);
		expect(executor.pid).not.toBe(process.pid);
	});

	it("fails the running job when the helper dies and runs the next job in a new helper", async () => {
		const executor = start();
		await executor.execute(job("print(1)", [""]), defaultLimits(), () => {});
		const first = executor.pid as number;
		const running = executor.execute(job("import time\ntime.sleep(4)", [""]), defaultLimits(), () => {});
		const failed = expect(running).rejects.toThrow(/helper exited/);
		process.kill(first, "SIGKILL");
		await failed;
		const next = await executor.execute(job("print('again')", [""]), defaultLimits(), () => {});
		expect(next.runs[0]?.stdout).toBe("again\n");
		expect(executor.pid).not.toBe(first);
	});

	it("keeps a process that awaits only its job alive while the helper starts, and exits after close", async () => {
		const script = [
			`import { startHelperExecutor } from ${JSON.stringify(path.join(import.meta.dirname, "helperExecutor.ts"))};`,
			`import { defaultLimits } from ${JSON.stringify(path.join(import.meta.dirname, "../sandbox/limits.ts"))};`,
			"const executor = startHelperExecutor();",
			`const job = ${JSON.stringify(job("print('alone')", [""]))};`,
			"const result = await executor.execute(job, defaultLimits(), () => {});",
			"console.log(JSON.stringify(result.runs[0].stdout));",
			"await executor.close();",
		].join("\n");
		const stdout = await new Promise<string>((resolve, reject) =>
			execFile(process.execPath, ["--input-type=module", "-e", script], (error, out, err) =>
				error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
			),
		);
		expect(JSON.parse(stdout)).toBe("alone\n");
	});

	it("ends the helper on close", async () => {
		const executor = start();
		await executor.execute(job("print(1)", [""]), defaultLimits(), () => {});
		const pid = executor.pid as number;
		await executor.close();
		await until(() => !alive(pid));
		await expect(executor.execute(job("print(1)", [""]), defaultLimits(), () => {})).rejects.toThrow(/closed/);
	});
});
