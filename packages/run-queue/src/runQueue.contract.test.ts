import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { BullRunQueue } from "./BullRunQueue.ts";
import { InProcessRunQueue } from "./InProcessRunQueue.ts";
import { runJob } from "./runJob.ts";
import type { QueueBounds, RunJob, RunProgressEvent, RunQueue, RunResult } from "./types.ts";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const usedPrefixes: string[] = [];

/** Deletes the keys of every test prefix so repeated runs leave nothing in the shared Redis. */
async function dropTestKeys(): Promise<void> {
	if (usedPrefixes.length === 0) return;
	const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
	try {
		for (const prefix of usedPrefixes.splice(0)) {
			let cursor = "0";
			do {
				const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
				cursor = next;
				if (keys.length > 0) await redis.del(...keys);
			} while (cursor !== "0");
		}
	} finally {
		redis.disconnect();
	}
}

function job(overrides: Partial<RunJob> = {}): RunJob {
	return {
		id: randomUUID(),
		sessionId: "s1",
		language: "python",
		code: "print(1)",
		inputs: [{ id: "main", stdin: "" }],
		submittedAt: new Date().toISOString(),
		...overrides,
	};
}

function echoResult(j: RunJob): RunResult {
	const now = new Date().toISOString();
	return {
		jobId: j.id,
		sessionId: j.sessionId,
		language: j.language,
		status: "ok",
		runs: j.inputs.map((i) => ({
			inputId: i.id,
			status: "ok",
			stdout: i.stdin.toUpperCase(),
			stderr: "",
			exitCode: 0,
			timeMs: 1,
		})),
		startedAt: now,
		finishedAt: now,
	};
}

function waitFor(events: RunProgressEvent[], pred: (e: RunProgressEvent) => boolean): Promise<void> {
	return new Promise((resolve) => {
		const tick = (): void => {
			if (events.some(pred)) resolve();
			else setTimeout(tick, 20);
		};
		tick();
	});
}

const implementations: Array<[string, (bounds?: QueueBounds) => Promise<RunQueue>]> = [
	["in-process", async (bounds) => new InProcessRunQueue(bounds)],
	[
		"bullmq",
		async (bounds) => {
			// Fail loudly when Redis is absent instead of skipping.
			const probe = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
			await probe.connect();
			await probe.ping();
			probe.disconnect();
			const prefix = `rqtest-${randomUUID()}`;
			usedPrefixes.push(prefix);
			const q = new BullRunQueue({
				redisUrl: REDIS_URL,
				prefix,
				lockDurationMs: 2000,
				stalledIntervalMs: 1000,
				...bounds,
			});
			await q.ready();
			return q;
		},
	],
];

describe.each(implementations)("RunQueue contract (%s)", (_name, make) => {
	const open: RunQueue[] = [];
	async function queue(bounds?: QueueBounds): Promise<RunQueue> {
		const q = await make(bounds);
		open.push(q);
		return q;
	}
	afterEach(async () => {
		await Promise.all(open.splice(0).map((q) => q.close()));
		await dropTestKeys();
	});

	it("runs a submitted job and reports its result by status lookup", async () => {
		const q = await queue();
		q.process(async (j) => echoResult(j), { concurrency: 1 });
		const j = job({ inputs: [{ id: "a", stdin: "hi" }] });
		const result = await runJob(q, j);
		expect(result.runs[0]?.stdout).toBe("HI");
		const status = await q.status(j.id);
		expect(status?.state).toBe("done");
		expect(status?.result?.jobId).toBe(j.id);
	});

	it("reports queued before any runner exists, then running and done", async () => {
		const q = await queue();
		const events: RunProgressEvent[] = [];
		q.subscribe((e) => events.push(e));
		const j = job({ sessionId: "sess-x" });
		await q.submit(j);
		expect((await q.status(j.id))?.state).toBe("queued");
		q.process(
			async (jj, ctx) => {
				ctx.progress(1, 1);
				return echoResult(jj);
			},
			{ concurrency: 1 },
		);
		await waitFor(events, (e) => e.state === "done");
		const states = events.filter((e) => e.jobId === j.id).map((e) => e.state);
		expect(states).toContain("running");
		expect(states).toContain("progress");
		expect(states.filter((s) => s === "done")).toHaveLength(1);
		expect(events.every((e) => e.sessionId === "sess-x")).toBe(true);
	});

	it("marks a job whose handler throws as failed, once, without retrying it", async () => {
		const q = await queue();
		let calls = 0;
		const events: RunProgressEvent[] = [];
		q.subscribe((e) => events.push(e));
		q.process(
			async () => {
				calls++;
				throw new Error("boom");
			},
			{ concurrency: 1 },
		);
		const j = job();
		await expect(runJob(q, j)).rejects.toThrow(/boom/);
		await waitFor(events, (e) => e.state === "failed");
		expect((await q.status(j.id))?.state).toBe("failed");
		expect(calls).toBe(1);
		expect(events.filter((e) => e.state === "failed")).toHaveLength(1);
	});

	it("remembers a bounded number of finished jobs (retainJobs), forgetting the oldest first", async () => {
		const q = await queue({ retainJobs: 3 });
		q.process(async (j) => echoResult(j), { concurrency: 1 });
		const ids: string[] = [];
		for (let i = 0; i < 5; i++) {
			const j = job();
			ids.push(j.id);
			await runJob(q, j);
		}
		expect(await q.status(ids[0] as string)).toBeUndefined();
		expect(await q.status(ids[1] as string)).toBeUndefined();
		for (const id of ids.slice(2)) expect((await q.status(id))?.state).toBe("done");
	});

	it("refuses a malformed job and a duplicate id with a clear error", async () => {
		const q = await queue();
		await expect(q.submit({ ...job(), inputs: [] })).rejects.toMatchObject({ code: "invalid_job" });
		await expect(q.submit({ ...job(), limits: { cpuMs: 0 } } as unknown as RunJob)).rejects.toMatchObject({
			code: "invalid_job",
		});
		const j = job();
		await q.submit(j);
		await expect(q.submit(j)).rejects.toMatchObject({ code: "duplicate_job" });
	});

	it("runs at most `concurrency` jobs at a time", async () => {
		const q = await queue();
		let active = 0;
		let peak = 0;
		q.process(
			async (j) => {
				active++;
				peak = Math.max(peak, active);
				await new Promise((r) => setTimeout(r, 30));
				active--;
				return echoResult(j);
			},
			{ concurrency: 2 },
		);
		await Promise.all(Array.from({ length: 6 }, () => runJob(q, job())));
		expect(peak).toBeLessThanOrEqual(2);
		expect(peak).toBeGreaterThanOrEqual(1);
	});

	it("delivers queued, running, progress and done in order, with progress counts and the submitter", async () => {
		const q = await queue();
		const events: RunProgressEvent[] = [];
		q.subscribe((e) => events.push(e));
		q.process(
			async (jj, progress) => {
				progress(1, 3);
				await new Promise((r) => setTimeout(r, 10));
				progress.progress(2, 3);
				await new Promise((r) => setTimeout(r, 10));
				progress(3, 3);
				return echoResult(jj);
			},
			{ concurrency: 1 },
		);
		const j = job({
			submittedBy: { id: "u1", name: "Ada" },
			inputs: ["a", "b", "c"].map((id) => ({ id, stdin: id })),
		});
		const result = await runJob(q, j);
		await waitFor(events, (e) => e.jobId === j.id && e.state === "done");
		const mine = events.filter((e) => e.jobId === j.id);
		expect(mine.map((e) => e.state)).toEqual(["queued", "running", "progress", "progress", "progress", "done"]);
		expect(mine.filter((e) => e.state === "progress").map((e) => [e.completedInputs, e.totalInputs])).toEqual([
			[1, 3],
			[2, 3],
			[3, 3],
		]);
		expect(mine[0]?.totalInputs).toBe(3);
		expect(mine.at(-1)?.result).toEqual(result);
		expect(result.runs.map((r) => r.stdout)).toEqual(["A", "B", "C"]);
		expect(mine.every((e) => e.submittedBy?.name === "Ada")).toBe(true);
	});

	it("close() lets a running job finish, then refuses submissions and workers", async () => {
		const q = await queue();
		let release = (): void => {};
		const gate = new Promise<void>((r) => {
			release = r;
		});
		let started = 0;
		let finished = 0;
		q.process(
			async (jj) => {
				started++;
				await gate;
				finished++;
				return echoResult(jj);
			},
			{ concurrency: 1 },
		);
		const events: RunProgressEvent[] = [];
		q.subscribe((e) => events.push(e));
		const j = job();
		await q.submit(j);
		await waitFor(events, (e) => e.jobId === j.id && e.state === "running");
		const closing = q.close();
		setTimeout(release, 50);
		await closing;
		expect(started).toBe(1);
		expect(finished).toBe(1);
		await expect(q.submit(job())).rejects.toMatchObject({ code: "closed" });
		expect(() => q.process(async (jj) => echoResult(jj), { concurrency: 1 })).toThrow(/closed/);
	});

	const by = (id: string) => ({ submittedBy: { id, name: id } });

	it("RELIABILITY 48: runs another submitter's first job before a flooder's remaining ones (round robin)", async () => {
		const q = await queue({ maxPendingPerUser: 10 });
		const flood = Array.from({ length: 5 }, (_, i) => job({ id: `flood-${i}-${randomUUID()}`, ...by("flooder") }));
		for (const j of flood) await q.submit(j);
		const other = job({ id: `other-${randomUUID()}`, ...by("other") });
		await q.submit(other);
		const order: string[] = [];
		const events: RunProgressEvent[] = [];
		q.subscribe((e) => events.push(e));
		q.process(
			async (j) => {
				order.push(j.id);
				return echoResult(j);
			},
			{ concurrency: 1 },
		);
		await waitFor(events, (e) => e.jobId === flood[4]?.id && e.state === "done");
		expect(order).toEqual([flood[0]?.id, other.id, ...flood.slice(1).map((j) => j.id)]);
	});

	it("RELIABILITY 48: refuses a submitter's job past maxPendingPerUser, others still get in, and a slot frees when a job ends", async () => {
		const q = await queue({ maxPendingPerUser: 2 });
		const events: RunProgressEvent[] = [];
		q.subscribe((e) => events.push(e));
		const first = job(by("flooder"));
		await q.submit(first);
		await q.submit(job(by("flooder")));
		await expect(q.submit(job(by("flooder")))).rejects.toMatchObject({ code: "too_many_pending" });
		await q.submit(job(by("other")));
		q.process(async (j) => echoResult(j), { concurrency: 1 });
		await waitFor(events, (e) => e.jobId === first.id && e.state === "done");
		await q.submit(job(by("flooder")));
	});

	it("RELIABILITY 48: refuses a job past maxWaiting with queue_full", async () => {
		const q = await queue({ maxWaiting: 2 });
		await q.submit(job(by("a")));
		await q.submit(job(by("b")));
		await expect(q.submit(job(by("c")))).rejects.toMatchObject({ code: "queue_full" });
	});

	it("answers undefined for an unknown job", async () => {
		const q = await queue();
		expect(await q.status("nope")).toBeUndefined();
	});
});

describe("BullMQ across nodes", () => {
	it("delivers every event of a job submitted on one node to subscribers on every node, verdicts once", async () => {
		const prefix = `rqnodes-${randomUUID()}`;
		usedPrefixes.push(prefix);
		const nodes = [0, 1, 2].map(() => new BullRunQueue({ redisUrl: REDIS_URL, prefix }));
		try {
			const seen: RunProgressEvent[][] = nodes.map(() => []);
			nodes.forEach((n, i) => n.subscribe((e) => seen[i]?.push(e)));
			await Promise.all(nodes.map((n) => n.ready()));
			nodes[2]?.process(
				async (j, progress) => {
					progress(1, 1);
					return echoResult(j);
				},
				{ concurrency: 1 },
			);
			const j = job({ sessionId: "across" });
			await nodes[0]?.submit(j);
			for (const events of seen) await waitFor(events, (e) => e.jobId === j.id && e.state === "done");
			for (const events of seen) {
				expect(events.filter((e) => e.jobId === j.id).map((e) => e.state)).toEqual([
					"queued",
					"running",
					"progress",
					"done",
				]);
				expect(events.every((e) => e.sessionId === "across")).toBe(true);
			}
			expect((await nodes[1]?.status(j.id))?.result?.runs[0]?.inputId).toBe("main");
		} finally {
			await Promise.all(nodes.map((n) => n.close()));
			await dropTestKeys();
		}
	});
});
