import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { BullRunQueue, type RunEvent, type RunJob } from "@tandem/run-queue";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepOrphanBoxes } from "../src/pool/sweepOrphanBoxes.ts";

// RELIABILITY 14 and 35: runners are real child processes (`node apps/runner/src/main.ts`) on
// BullMQ; they are SIGKILLed mid-job and restarted while sync-server-like observers watch events.

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const ROOT = path.resolve(import.meta.dirname, "../../..");
const PREFIX = `qkill-${randomUUID()}`;
/** Short locks so a killed runner's jobs are taken over within seconds. */
const LOCK_MS = 3_000;
const RUNNERS = 3;
const JOBS = 50;
/** Only a guard against hanging forever (each test's timeout, too): nothing asserts on speed, and each test restarts runners, which takes seconds apiece at load 25 on two cores. */
const GUARD_MS = 240_000;

interface Runner {
	child: ChildProcess;
	pid: number;
}

const runners: Runner[] = [];
const everyPid: number[] = [];
const killedPids: number[] = [];

async function startRunner(extraEnv: Record<string, string> = {}): Promise<Runner> {
	const child = spawn(process.execPath, ["apps/runner/src/main.ts"], {
		cwd: ROOT,
		env: {
			...process.env,
			REDIS_URL,
			RUN_QUEUE_PREFIX: PREFIX,
			RUNNER_CONCURRENCY: "2",
			RUN_QUEUE_LOCK_MS: String(LOCK_MS),
			...extraEnv,
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	let log = "";
	child.stderr?.on("data", (d: Buffer) => {
		log += d.toString();
	});
	await new Promise<void>((resolve, reject) => {
		child.stdout?.on("data", (d: Buffer) => {
			log += d.toString();
			if (log.includes("runner: pulling jobs")) resolve();
		});
		child.once("exit", (code) => reject(new Error(`runner exited with ${code} before it was ready:\n${log}`)));
	});
	const runner: Runner = { child, pid: child.pid ?? -1 };
	runners.push(runner);
	everyPid.push(runner.pid);
	return runner;
}

function exited(child: ChildProcess): Promise<number | null> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
	return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

async function killRunner(runner: Runner): Promise<void> {
	killedPids.push(runner.pid);
	runner.child.kill("SIGKILL");
	await exited(runner.child);
	runners.splice(runners.indexOf(runner), 1);
}

/** Per-run cgroup directories the sandbox made for runner `pid` (it names them tandem-box-<pid>-...). */
function boxCgroups(pid: number): string[] {
	const own = new Map<string, string>();
	for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
		const [, controllers, p] = line.split(":");
		for (const c of controllers?.split(",") ?? []) if (p !== undefined) own.set(c, p);
	}
	const bases =
		own.size === 1 && own.has("")
			? [path.join("/sys/fs/cgroup", own.get("") ?? "/")]
			: ["memory", "pids", "freezer", "cpuacct"].map((c) => path.join("/sys/fs/cgroup", c, own.get(c) ?? "/"));
	const out: string[] = [];
	for (const base of bases) {
		if (!existsSync(base)) continue;
		for (const entry of readdirSync(base)) if (entry.startsWith(`tandem-box-${pid}-`)) out.push(path.join(base, entry));
	}
	return out;
}

/** Boxes of these runners that still hold a process, as "dir: pids". */
function busyBoxes(pids: number[]): string[] {
	return pids
		.flatMap(boxCgroups)
		.map((dir) => `${dir}: ${readFileSync(path.join(dir, "cgroup.procs"), "utf8").trim()}`)
		.filter((line) => !line.endsWith(": "));
}

/**
 * Waits until no box of these runners holds a process. A box a runner leaves behind dies with it
 * (bwrap --die-with-parent) a moment after the runner exits, or is killed by the next runner's sweep.
 */
async function expectNoBoxProcesses(pids: number[]): Promise<void> {
	await until(() => busyBoxes(pids).length === 0, "boxes to empty", 20_000).catch(() => undefined);
	expect(busyBoxes(pids)).toEqual([]);
}

function pythonJob(n: number): RunJob {
	return {
		id: `job-${n}-${randomUUID()}`,
		sessionId: `session-${n % 7}`,
		language: "python",
		// Long enough that a kill usually lands mid-run.
		code: "import sys, time\nn = int(sys.stdin.read())\ntime.sleep(0.3 + (n % 4) * 0.2)\nprint(n * n)",
		inputs: [{ id: "main", stdin: String(n) }],
		submittedAt: new Date().toISOString(),
	};
}

function until(pred: () => boolean, what: string, guardMs = GUARD_MS): Promise<void> {
	const deadline = Date.now() + guardMs;
	return new Promise((resolve, reject) => {
		const tick = (): void => {
			if (pred()) resolve();
			else if (Date.now() > deadline) reject(new Error(`gave up waiting for ${what}`));
			else setTimeout(tick, 50);
		};
		tick();
	});
}

/** A seeded generator (mulberry32) so a failing chaos schedule can be replayed with CHAOS_SEED. */
function random(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

describe("runners killed mid-job over BullMQ (RELIABILITY 14, 35)", () => {
	// Two observers stand for two sync-server nodes: each must see every verdict, once.
	const observers: BullRunQueue[] = [];
	const events: RunEvent[][] = [[], []];
	let raw: Queue | undefined;

	beforeAll(async () => {
		const probe = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
		await probe.connect(); // fails loudly when Redis is absent
		await probe.ping();
		probe.disconnect();
		for (let i = 0; i < 2; i++) {
			const q = new BullRunQueue({ redisUrl: REDIS_URL, prefix: PREFIX });
			q.subscribe((e) => events[i]?.push(e));
			await q.ready();
			observers.push(q);
		}
		raw = new Queue("runs", { connection: { url: REDIS_URL }, prefix: PREFIX });
		for (let i = 0; i < RUNNERS; i++) await startRunner();
	});

	afterAll(async () => {
		for (const r of runners.splice(0)) {
			r.child.kill("SIGKILL");
			await exited(r.child);
		}
		await Promise.all(observers.map((q) => q.close()));
		await raw?.obliterate({ force: true }).catch(() => undefined);
		await raw?.close();
	});

	const terminal = (i: number, jobId: string) =>
		events[i]?.filter((e) => e.jobId === jobId && (e.state === "done" || e.state === "failed")) ?? [];
	const both = (jobId: string) => terminal(0, jobId).length > 0 && terminal(1, jobId).length > 0;

	it(
		"fails a malformed (poison) job once, without a retry and without hurting the runners",
		async () => {
			await raw?.add("run", { bogus: true } as never, { jobId: "poison-malformed", attempts: 1 });
			await until(() => both("poison-malformed"), "the poison verdict");
			for (const i of [0, 1]) expect(terminal(i, "poison-malformed").map((e) => e.state)).toEqual(["failed"]);
			expect((await observers[0]?.status("poison-malformed"))?.state).toBe("failed");
			expect((await raw?.getJob("poison-malformed"))?.attemptsMade).toBeLessThanOrEqual(1);
			expect(runners.every((r) => r.child.exitCode === null)).toBe(true);
		},
		GUARD_MS,
	);

	it(
		"retries a job whose runner is killed once, and fails it when its runner is killed again",
		async () => {
			const observer = observers[0];
			if (!observer) throw new Error("no observer");
			// It sleeps past the runners' wall limit (5 s), so only its runner's death ends it early. Between
			// the kills one runner is started, not three: starting runners on a loaded host can take longer
			// than the job, which then ended "done" on the runner that was up first.
			const job = { ...pythonJob(1), code: "import time\ntime.sleep(60)\nprint('never')" };
			await observer.submit(job);
			const runningCount = () => events[0]?.filter((e) => e.jobId === job.id && e.state === "running").length ?? 0;
			for (const attempt of [1, 2]) {
				await until(() => runningCount() >= attempt, `running #${attempt}`);
				// Whichever runner holds it dies: kill them all; the next one takes the job over.
				for (const r of [...runners]) await killRunner(r);
				await startRunner();
			}
			for (let i = 1; i < RUNNERS; i++) await startRunner();
			await until(() => both(job.id), "the stalled job's verdict");
			for (const i of [0, 1]) expect(terminal(i, job.id).map((e) => e.state)).toEqual(["failed"]);
			expect(terminal(0, job.id)[0]?.error).toMatch(/stalled/);
			expect((await observer.status(job.id))?.state).toBe("failed");
			// Ran on a first runner, retried once on another; after the second death BullMQ marks the job
			// failed and the next runner to pick it up fails it without running it (a third "running").
			const trail = events[0]?.filter((e) => e.jobId === job.id).map((e) => e.state);
			expect(runningCount(), `events: ${trail?.join(", ")}`).toBeGreaterThanOrEqual(2);
			expect(runningCount(), `events: ${trail?.join(", ")}`).toBeLessThanOrEqual(3);
			expect(trail?.at(-1)).toBe("failed");
		},
		GUARD_MS,
	);

	it(
		"ends every one of 50 concurrent jobs exactly once with its result while runners are killed and restarted",
		async () => {
			const observer = observers[0];
			if (!observer || !raw) throw new Error("not set up");
			const jobs = Array.from({ length: JOBS }, (_, n) => pythonJob(n));
			await Promise.all(jobs.map((j) => observer.submit(j)));
			const finished = () => jobs.filter((j) => both(j.id)).length;

			const rand = random(Number(process.env.CHAOS_SEED ?? 14));
			let kills = 0;
			const running = () => new Set(events[0]?.filter((e) => e.state === "running").map((e) => e.jobId)).size;
			while (finished() < JOBS && kills < 1) {
				// One kill, once every runner's slots hold a job (a condition, not a time): it lands mid-job,
				// and no job can meet a second kill (that one would rightly end failed, RELIABILITY 35).
				await until(() => running() >= RUNNERS * 2, "every runner busy");
				// Kill only while jobs wait, so every runner is busy and each kill lands mid-job.
				if ((await raw.getJobCountByTypes("wait", "prioritized")) === 0) break;
				const victim = runners[Math.floor(rand() * runners.length)];
				if (!victim) break;
				await killRunner(victim);
				kills++;
				await startRunner();
			}
			await until(() => finished() === JOBS, "all verdicts");

			expect(kills).toBeGreaterThanOrEqual(1);
			let retried = 0;
			for (const j of jobs) {
				for (const i of [0, 1]) {
					const verdicts = terminal(i, j.id);
					expect(verdicts.map((e) => e.state)).toEqual(["done"]);
					expect(verdicts[0]?.result?.runs[0]?.stdout).toBe(`${Number(j.inputs[0]?.stdin) ** 2}\n`);
				}
				const status = await observer.status(j.id);
				expect(status?.state).toBe("done");
				expect(status?.result?.status).toBe("ok");
				if ((events[0]?.filter((e) => e.jobId === j.id && e.state === "running").length ?? 0) > 1) retried++;
			}
			// The killed runners held jobs; another runner took them over.
			expect(retried).toBeGreaterThanOrEqual(1);
			console.log(`queueKill: ${kills} runner kills, ${retried} of ${JOBS} jobs retried on another runner`);
		},
		GUARD_MS,
	);

	it(
		"on SIGTERM lets a running job finish, reports it, and exits 0",
		async () => {
			const observer = observers[0];
			if (!observer) throw new Error("no observer");
			for (const r of [...runners]) await killRunner(r);
			const runner = await startRunner({ RUNNER_DRAIN_MS: "60000" });
			const job = { ...pythonJob(2), code: "import time\ntime.sleep(1.5)\nprint('finished')" };
			await observer.submit(job);
			await until(() => events[0]?.some((e) => e.jobId === job.id && e.state === "running") ?? false, "running");
			runner.child.kill("SIGTERM");
			expect(await exited(runner.child)).toBe(0);
			runners.splice(runners.indexOf(runner), 1);
			const status = await observer.status(job.id);
			expect(status?.state).toBe("done");
			expect(status?.result?.runs[0]?.stdout).toBe("finished\n");
			await expectNoBoxProcesses([runner.pid]);
		},
		GUARD_MS,
	);

	it(
		"on SIGTERM past the drain time kills its boxes, exits 0, and another runner completes the job",
		async () => {
			const observer = observers[0];
			if (!observer) throw new Error("no observer");
			const runner = await startRunner({ RUNNER_DRAIN_MS: "300" });
			const job = { ...pythonJob(3), code: "import time\ntime.sleep(2)\nprint('second try')" };
			await observer.submit(job);
			await until(() => events[0]?.some((e) => e.jobId === job.id && e.state === "running") ?? false, "running");
			runner.child.kill("SIGTERM");
			expect(await exited(runner.child)).toBe(0);
			runners.splice(runners.indexOf(runner), 1);
			killedPids.push(runner.pid);
			await expectNoBoxProcesses([runner.pid]);
			expect(terminal(0, job.id)).toEqual([]);
			for (let i = 0; i < RUNNERS; i++) await startRunner();
			await until(() => both(job.id), "the released job's verdict");
			for (const i of [0, 1]) expect(terminal(i, job.id).map((e) => e.state)).toEqual(["done"]);
			expect(terminal(0, job.id)[0]?.result?.runs[0]?.stdout).toBe("second try\n");
		},
		GUARD_MS,
	);

	it(
		"leaves no sandbox process behind, and a SIGTERMed runner exits 0 with its boxes removed",
		async () => {
			const live = [...runners];
			for (const r of live) r.child.kill("SIGTERM");
			const codes = await Promise.all(live.map((r) => exited(r.child)));
			runners.length = 0;
			expect(codes).toEqual(live.map(() => 0));
			// No process may be left in any box of any runner, killed or stopped.
			await expectNoBoxProcesses(everyPid);
			// A SIGKILLed runner cannot remove its boxes; the next runner's sweep does (run it here,
			// as the next runner would), and nothing of any runner of this test is left afterwards.
			await sweepOrphanBoxes();
			expect(everyPid.flatMap(boxCgroups)).toEqual([]);
			expect(everyPid.length).toBeGreaterThan(RUNNERS);
		},
		GUARD_MS,
	);
});
