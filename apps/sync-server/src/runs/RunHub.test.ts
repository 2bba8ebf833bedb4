import { InProcessRunQueue, type RunJob, type RunResult } from "@tandem/run-queue";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	api,
	createSession,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
} from "../../test/support/testServer.ts";
import { findExecutionResult } from "./runRepository.ts";
import { runRouteGroup } from "./runRouteGroup.ts";

// The embedded deployment's in-process queue with a handler that echoes stdin: the runner itself
// is tested in apps/runner; here only what the sync server does with a verdict matters.
function echo(job: RunJob): RunResult {
	const now = new Date().toISOString();
	return {
		jobId: job.id,
		sessionId: job.sessionId,
		language: job.language,
		status: "ok",
		runs: job.inputs.map((i) => ({ inputId: i.id, status: "ok", stdout: i.stdin, stderr: "", exitCode: 0, timeMs: 1 })),
		startedAt: now,
		finishedAt: now,
	};
}

let s: RunningServer;
let queue: InProcessRunQueue;
let owner: Awaited<ReturnType<typeof registerUser>>;
let sessionId: string;

beforeAll(async () => {
	queue = new InProcessRunQueue();
	queue.process(async (job) => echo(job), { concurrency: 2 });
	s = await startTestServer({}, { routes: [runRouteGroup({ queue })] });
	owner = await registerUser(s.url, "hubowner");
	sessionId = (await createSession(s.url, owner.token)).id;
});

afterAll(async () => {
	await s?.close();
	await queue?.close();
});

const exec = (stdin: string) =>
	api(s.url, "POST", "/execute-code", { token: owner.token, body: { sessionId, language: "python", code: "", stdin } });
const rowCount = async (id: string): Promise<unknown> => {
	const result = await s.server.ctx.db.execute(sql`select count(*)::int as n from execution_results where id = ${id}`);
	return (result as unknown as { rows: unknown[] }).rows[0];
};

describe("run results stored after the answer", () => {
	it("finds an answered run at once through GET /submissions/{id} and the session's runs, and stores it once", async () => {
		const res = await exec("at once");
		expect(res.status).toBe(200);
		const byId = await api(s.url, "GET", `/submissions/${res.body.id}`, { token: owner.token });
		expect(byId.body).toEqual({ status: "done", result: res.body });
		const list = await api(s.url, "GET", `/session/${sessionId}/runs`, { token: owner.token });
		expect(list.body.runs[0]).toEqual(res.body);
		await eventually(async () => (await findExecutionResult(s.server.ctx.db, res.body.id)) !== undefined);
		expect(await findExecutionResult(s.server.ctx.db, res.body.id)).toEqual(res.body);
		expect(await rowCount(res.body.id)).toEqual({ n: 1 });
	});

	it("answers while the database refuses the store, serves the result meanwhile, and stores it when it recovers", async () => {
		const db = s.server.ctx.db;
		await db.execute(sql`alter table execution_results rename to execution_results_away`);
		let res: Awaited<ReturnType<typeof exec>>;
		try {
			res = await exec("no table");
			expect(res.status).toBe(200);
			expect(res.body.output).toBe("no table");
			const byId = await api(s.url, "GET", `/submissions/${res.body.id}`, { token: owner.token });
			expect(byId.body).toEqual({ status: "done", result: res.body });
		} finally {
			await db.execute(sql`alter table execution_results_away rename to execution_results`);
		}
		await eventually(async () => (await findExecutionResult(db, res.body.id)) !== undefined, 100);
		expect(await findExecutionResult(db, res.body.id)).toEqual(res.body);
		const list = await api(s.url, "GET", `/session/${sessionId}/runs`, { token: owner.token });
		expect(list.body.runs.filter((r: { id: string }) => r.id === res.body.id)).toHaveLength(1);
	});
});
