import { InProcessRunQueue, type RunJob, type RunResult } from "@tandem/run-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findExecutionResult } from "../src/runs/runRepository.ts";
import { runRouteGroup } from "../src/runs/runRouteGroup.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import {
	api,
	createSession,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
} from "./support/testServer.ts";

// RELIABILITY 48 (and 45 for a failed run) through REST with the embedded in-process queue and a
// stand-in for the runner: the sandbox is tested in apps/runner; here only what the sync server
// does with the queue's order, bounds and verdicts matters. Order is asserted, never time.

/** stdin "big:N": N bytes of output; "crash…": the runner fails the job with stdin in its words; else echo. */
function fakeRunner(job: RunJob): RunResult {
	const now = new Date().toISOString();
	const crash = job.inputs.find((i) => i.stdin.startsWith("crash"));
	if (crash) throw new Error(`runner broke on ${crash.stdin}`);
	return {
		jobId: job.id,
		sessionId: job.sessionId,
		language: job.language,
		status: "ok",
		runs: job.inputs.map((i) => {
			const big = /^big:(\d+)$/.exec(i.stdin);
			const out = big ? "x".repeat(Number(big[1])) : i.stdin;
			return { inputId: i.id, status: "ok", stdout: out, stderr: big ? out : "", exitCode: 0, timeMs: 1 };
		}),
		startedAt: now,
		finishedAt: now,
	};
}

type User = Awaited<ReturnType<typeof registerUser>>;
const servers: RunningServer[] = [];
const queues: InProcessRunQueue[] = [];

async function serverWith(
	queue: InProcessRunQueue,
	rateLimits?: { perUserPerMinute: number; perSessionPerMinute: number },
) {
	queues.push(queue);
	const s = await startTestServer({}, { routes: [runRouteGroup({ queue, ...(rateLimits ? { rateLimits } : {}) })] });
	servers.push(s);
	return s;
}

async function sessionFor(s: RunningServer, owner: User, others: readonly User[]): Promise<string> {
	const id = (await createSession(s.url, owner.token, { language: "python", code: "print(input())" })).id;
	for (const u of others) {
		const res = await api(s.url, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: id, userId: u.user.id, role: "editor" },
		});
		expect(res.status).toBe(201);
	}
	return id;
}

afterAll(async () => {
	for (const s of servers) await s.close();
	for (const q of queues) await q.close();
});

describe("RELIABILITY 48: runs are bounded and fair", () => {
	it("RELIABILITY 48: one user's flood never starves another's run: past its pending cap the flooder gets 429 with Retry-After, and the other user's run goes before the flooder's waiting ones", async () => {
		const queue = new InProcessRunQueue({ maxPendingPerUser: 3 });
		const s = await serverWith(queue, { perUserPerMinute: 1000, perSessionPerMinute: 1000 });
		const flooder = await registerUser(s.url, "flooder");
		const other = await registerUser(s.url, "other");
		const floodSession = await sessionFor(s, flooder, []);
		const otherSession = await sessionFor(s, other, []);

		const submit = (u: User, sessionId: string) =>
			api(s.url, "POST", "/submit-code", { token: u.token, body: { sessionId, stdin: "hi" } });
		const flood: string[] = [];
		for (let i = 0; i < 3; i++) {
			const res = await submit(flooder, floodSession);
			expect(res.status).toBe(202);
			flood.push(res.body.submissionId);
		}
		const refused = await submit(flooder, floodSession);
		expect(refused.status).toBe(429);
		expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
		expect(refused.body.error.message).toMatch(/already queued or running/);
		const mine = await submit(other, otherSession);
		expect(mine.status).toBe(202);

		// Only now does a runner pull jobs, one at a time.
		const order: string[] = [];
		queue.process(
			async (job) => {
				order.push(job.id);
				return fakeRunner(job);
			},
			{ concurrency: 1 },
		);
		const ids = [...flood, mine.body.submissionId];
		await eventually(async () =>
			(await Promise.all(ids.map((id) => queue.status(id)))).every((st) => st?.state === "done"),
		);
		expect(order).toEqual([flood[0], mine.body.submissionId, flood[1], flood[2]]);
		// A finished run frees a slot.
		expect((await submit(flooder, floodSession)).status).toBe(202);
	}, 120_000);

	it("RELIABILITY 48: past the per-user and per-session run rates every run route answers 429 with Retry-After and a message", async () => {
		const queue = new InProcessRunQueue();
		queue.process(async (job) => fakeRunner(job), { concurrency: 2 });
		const s = await serverWith(queue, { perUserPerMinute: 3, perSessionPerMinute: 5 });
		const a = await registerUser(s.url, "ratea");
		const b = await registerUser(s.url, "rateb");
		const shared = await sessionFor(s, a, [b]);
		const own = await sessionFor(s, b, []);
		const calls = [
			(u: User, sessionId: string) => api(s.url, "POST", "/execute-code", { token: u.token, body: { sessionId } }),
			(u: User, sessionId: string) => api(s.url, "POST", "/submit-code", { token: u.token, body: { sessionId } }),
			(u: User, sessionId: string) =>
				api(s.url, "POST", `/session/${sessionId}/run-tests`, { token: u.token, body: {} }),
		];
		for (const call of calls) expect((await call(a, shared)).status).toBeLessThan(300);
		for (const call of calls) {
			const res = await call(a, shared);
			expect(res.status).toBe(429);
			expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
			expect(res.body.error.message).toMatch(/You started 3 runs in the last minute; try again in \d+ s/);
		}
		// The session's budget: b's first two runs in it fit, the third does not; b's own session is untouched.
		expect((await calls[0]?.(b, shared))?.status).toBe(200);
		expect((await calls[0]?.(b, shared))?.status).toBe(200);
		const sessionFull = await calls[0]?.(b, shared);
		expect(sessionFull?.status).toBe(429);
		expect(sessionFull?.body.error.message).toMatch(/This session started 5 runs/);
		expect(sessionFull?.headers.get("retry-after")).toMatch(/^\d+$/);
		expect((await calls[0]?.(b, own))?.status).toBe(429); // b's own budget (3) is spent now too
	}, 120_000);

	it("RELIABILITY 48: a full queue answers 503 with Retry-After and words", async () => {
		const queue = new InProcessRunQueue({ maxWaiting: 2 });
		const s = await serverWith(queue);
		const users = [
			await registerUser(s.url, "fulla"),
			await registerUser(s.url, "fullb"),
			await registerUser(s.url, "fullc"),
		];
		const statuses: number[] = [];
		let last: Awaited<ReturnType<typeof api>> | undefined;
		for (const u of users) {
			const sessionId = await sessionFor(s, u, []);
			last = await api(s.url, "POST", "/submit-code", { token: u.token, body: { sessionId } });
			statuses.push(last.status);
		}
		expect(statuses).toEqual([202, 202, 503]);
		expect(Number(last?.headers.get("retry-after"))).toBeGreaterThan(0);
		expect(last?.body.error.message).toMatch(/Too many runs are waiting/);
	}, 120_000);

	describe("bounded results", () => {
		let s: RunningServer;
		let owner: User;
		let editor: User;
		beforeAll(async () => {
			const queue = new InProcessRunQueue();
			queue.process(async (job) => fakeRunner(job), { concurrency: 2 });
			s = await serverWith(queue);
			owner = await registerUser(s.url, "bigowner");
			editor = await registerUser(s.url, "bigeditor");
		}, 120_000);

		it("RELIABILITY 48: 20 tests printing 1 MiB each give a run-tests answer and a stored report of at most about 1 MiB that say they were cut", async () => {
			const sessionId = await sessionFor(s, owner, [editor]);
			for (let i = 0; i < 20; i++) {
				const res = await api(s.url, "POST", `/session/${sessionId}/tests`, {
					token: owner.token,
					body: { name: `t${i}`, stdin: `big:${1024 * 1024}`, expected: "small" },
				});
				expect(res.status).toBe(201);
			}
			const res = await api(s.url, "POST", `/session/${sessionId}/run-tests`, { token: owner.token, body: {} });
			expect(res.status).toBe(200);
			expect(res.body.total).toBe(20);
			expect(res.text.length).toBeLessThan(1.2 * 1024 * 1024);
			expect(res.body.note).toMatch(/cut/);
			expect(res.body.results[0]).toMatchObject({ truncated: true, status: "wrong_answer" });
			expect(res.body.results[0].output.length).toBeLessThanOrEqual(64 * 1024);
			const stored = await api(s.url, "GET", `/submissions/${res.body.runId}`, { token: owner.token });
			expect(stored.status).toBe(200);
			expect(stored.text.length).toBeLessThan(1.2 * 1024 * 1024);
			expect(stored.body.report.note).toMatch(/cut/);
		}, 120_000);

		it("RELIABILITY 48: a plain run printing 3 MiB answers at most 1 MiB of each stream, says so, and so does the stored result", async () => {
			const sessionId = await sessionFor(s, owner, []);
			const res = await api(s.url, "POST", "/execute-code", {
				token: owner.token,
				body: { sessionId, stdin: `big:${3 * 1024 * 1024}` },
			});
			expect(res.status).toBe(200);
			expect(res.body.truncated).toBe(true);
			expect(res.body.output.length).toBe(1024 * 1024);
			expect(res.body.error.length).toBe(1024 * 1024);
			const db = s.server.ctx.db;
			await eventually(async () => (await findExecutionResult(db, res.body.id)) !== undefined);
			const stored = await findExecutionResult(db, res.body.id);
			expect(stored?.truncated).toBe(true);
			expect(stored?.output.length).toBe(1024 * 1024);
			const byId = await api(s.url, "GET", `/submissions/${res.body.id}`, { token: owner.token });
			expect(byId.body.result.truncated).toBe(true);
		}, 120_000);
	});
});

describe("RELIABILITY 45: a failed test run", () => {
	it("RELIABILITY 45: tells an editor no words of the failure (which may hold a hidden input), by the answer or the broadcast", async () => {
		const queue = new InProcessRunQueue();
		queue.process(async (job) => fakeRunner(job), { concurrency: 1 });
		const s = await serverWith(queue);
		const owner = await registerUser(s.url, "failowner");
		const editor = await registerUser(s.url, "faileditor");
		const sessionId = await sessionFor(s, owner, [editor]);
		const secret = "crash SECRET-IN-FAILURE-77";
		const added = await api(s.url, "POST", `/session/${sessionId}/tests`, {
			token: owner.token,
			body: { name: "h", stdin: secret, expected: "", hidden: true },
		});
		expect(added.status).toBe(201);
		const client: CollabClient = await connectClient(s.wsUrl, sessionId, editor.token);
		try {
			const res = await api(s.url, "POST", `/session/${sessionId}/run-tests`, { token: editor.token, body: {} });
			expect(res.status).toBe(503);
			expect(res.text).not.toContain("SECRET");
			await eventually(() => client.stateless.some((p) => JSON.parse(p).state === "failed"));
			expect(client.stateless.join("\n")).not.toContain("SECRET");
		} finally {
			client.destroy();
		}
	}, 120_000);
});
