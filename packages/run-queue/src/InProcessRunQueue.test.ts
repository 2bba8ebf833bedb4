import { describe, expect, it } from "vitest";
import { InProcessRunQueue } from "./InProcessRunQueue.ts";
import { runJob } from "./runJob.ts";
import type { RunJob, RunResult } from "./types.ts";

function job(id: string): RunJob {
	return {
		id,
		sessionId: "s",
		language: "python",
		code: "",
		inputs: [{ id: "main", stdin: "" }],
		submittedAt: new Date().toISOString(),
	};
}

function ok(j: RunJob): RunResult {
	return {
		jobId: j.id,
		sessionId: j.sessionId,
		language: j.language,
		status: "ok",
		runs: [],
		startedAt: "",
		finishedAt: "",
	};
}

describe("InProcessRunQueue", () => {
	it("remembers a bounded number of finished jobs, forgetting the oldest first", async () => {
		const q = new InProcessRunQueue({ retainJobs: 3 });
		q.process(async (j) => ok(j), { concurrency: 1 });
		for (const id of ["a", "b", "c", "d", "e"]) await runJob(q, job(id));
		expect(await q.status("a")).toBeUndefined();
		expect(await q.status("b")).toBeUndefined();
		expect((await q.status("e"))?.state).toBe("done");
		expect((await q.status("c"))?.state).toBe("done");
		await q.close();
	});

	it("never forgets a job that is still waiting", async () => {
		const q = new InProcessRunQueue({ retainJobs: 2 });
		for (const id of ["w1", "w2", "w3", "w4"]) await q.submit(job(id));
		for (const id of ["w1", "w2", "w3", "w4"]) expect((await q.status(id))?.state).toBe("queued");
		await q.close();
	});

	it("keeps delivering events to other listeners when one throws", async () => {
		const q = new InProcessRunQueue();
		const seen: string[] = [];
		q.subscribe(() => {
			throw new Error("listener bug");
		});
		q.subscribe((e) => seen.push(e.state));
		q.process(async (j) => ok(j), { concurrency: 1 });
		await runJob(q, job("x"));
		expect(seen).toEqual(["queued", "running", "done"]);
		await q.close();
	});
});
