import type { ChildProcess } from "node:child_process";
import { BullRunQueue } from "@tandem/run-queue";
import { nanoid } from "nanoid";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRouteGroup } from "../src/runs/runRouteGroup.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { startRunner, stopRunner } from "./support/runnerProcess.ts";
import {
	api,
	createSession,
	databaseUrl,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
	TEST_DATABASE_URL,
	TEST_REDIS_URL,
} from "./support/testServer.ts";

// Issue 13 step 4: two nodes over one Redis and one Postgres hear every run event; one of them writes each verdict.
const PREFIX = `runs-once-${nanoid(8)}`;
const dbName = `tandem_runsonce_${nanoid(8)
	.toLowerCase()
	.replace(/[^a-z0-9]/g, "x")}`;
const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
let runner: ChildProcess | undefined;
const queues: BullRunQueue[] = [];
const nodes: RunningServer[] = [];
const clients: CollabClient[] = [];

beforeAll(async () => {
	await admin.unsafe(`CREATE DATABASE "${dbName}"`);
	runner = await startRunner(TEST_REDIS_URL, PREFIX);
	for (let i = 0; i < 2; i++) {
		const queue = new BullRunQueue({ redisUrl: TEST_REDIS_URL, prefix: PREFIX });
		queues.push(queue);
		nodes.push(
			await startTestServer(
				{ DATABASE_URL: databaseUrl(dbName), REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: dbName },
				{ routes: [runRouteGroup({ queue })] },
			),
		);
	}
}, 180_000);

afterAll(async () => {
	for (const c of clients) c.destroy();
	for (const n of nodes) await n.close();
	for (const q of queues) await q.close();
	await stopRunner(runner, TEST_REDIS_URL, PREFIX);
	await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
	await admin.end();
});

/** tandem_run_results_stored_total{kind} on one node. */
async function storedCount(node: RunningServer, kind: "run" | "test"): Promise<number> {
	const metric = node.server.ctx.metrics.registry.getSingleMetric("tandem_run_results_stored_total");
	const values = (await metric?.get())?.values ?? [];
	return values.filter((v) => v.labels.kind === kind).reduce((sum, v) => sum + v.value, 0);
}

describe("runs processed once (issue 13 step 4)", () => {
	it("a run submitted on one node is written once while clients on both nodes see it", async () => {
		const [a, b] = nodes as [RunningServer, RunningServer];
		const owner = await registerUser(a.url, "onceowner");
		const session = await createSession(a.url, owner.token, { language: "python", code: "print('once')\n" });
		const onA = await connectClient(a.wsUrl, session.id, owner.token);
		const onB = await connectClient(b.wsUrl, session.id, owner.token);
		clients.push(onA, onB);

		const runs = 3;
		const ids: string[] = [];
		for (let i = 0; i < runs; i++) {
			const res = await api(a.url, "POST", "/submit-code", {
				token: owner.token,
				body: { sessionId: session.id, code: `print(${i})` },
			});
			expect(res.status).toBe(202);
			ids.push(res.body.submissionId);
		}
		const done = (c: CollabClient) =>
			new Set(
				c.stateless
					.map((p) => JSON.parse(p))
					.filter((m) => m.type === "run" && m.state === "done")
					.map((m) => m.submissionId),
			);
		await eventually(() => ids.every((id) => done(onA).has(id) && done(onB).has(id)), 100);
		// Both nodes handled every event; the rows were written once in all.
		await eventually(async () => (await storedCount(a, "run")) + (await storedCount(b, "run")) >= runs, 100);
		// Every node has handled each verdict (both answer every run from the database or memory) ...
		for (const node of [a, b]) {
			await eventually(async () => {
				const res = await api(node.url, "GET", `/session/${session.id}/runs`, { token: owner.token });
				return ids.every((id) => res.body.runs.some((r: { id: string }) => r.id === id));
			}, 100);
		}
		// ... and the rows were written once in all.
		expect((await storedCount(a, "run")) + (await storedCount(b, "run"))).toBe(runs);
		const res = await api(b.url, "GET", `/session/${session.id}/runs`, { token: owner.token });
		expect(res.body.runs.map((r: { id: string }) => r.id).sort()).toEqual([...ids].sort());
	}, 120_000);
});
