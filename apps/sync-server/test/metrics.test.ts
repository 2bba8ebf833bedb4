import type { ChildProcess } from "node:child_process";
import { BullRunQueue } from "@tandem/run-queue";
import { nanoid } from "nanoid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRouteGroup } from "../src/runs/runRouteGroup.ts";
import { connectClient } from "./support/collabClient.ts";
import { startRunner, stopRunner } from "./support/runnerProcess.ts";
import {
	api,
	createSession,
	eventually,
	freePort,
	type RunningServer,
	registerUser,
	startTestServer,
	TEST_REDIS_URL,
} from "./support/testServer.ts";

// Issue 13 step 8 and CONTRACT (Operations): GET /metrics on the sync server and the runner.
const PREFIX = `metrics-test-${nanoid(8)}`;
/** A queue no runner pulls from: a job submitted there stays queued. */
const IDLE_PREFIX = `metrics-idle-${nanoid(8)}`;
const NODE_ID = "metrics-node-1";
const METRICS_TOKEN = "metrics-token-0123456789";

let runner: ChildProcess;
let runnerMetricsUrl: string;
let queue: BullRunQueue;
let idleQueue: BullRunQueue;
let s: RunningServer;
/** Its queue has no runner; it has no NODE_ID and guards /metrics with METRICS_TOKEN. */
let idle: RunningServer;
let owner: Awaited<ReturnType<typeof registerUser>>;
let sessionId: string;

interface Sample {
	readonly name: string;
	readonly labels: Record<string, string>;
	readonly value: number;
}

/** Prometheus text format → samples (enough of it for our own output: no escapes in label values). */
function parseMetrics(text: string): Sample[] {
	const samples: Sample[] = [];
	for (const line of text.split("\n")) {
		if (!line || line.startsWith("#")) continue;
		const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
		if (!match) throw new Error(`not a sample line: ${line}`);
		const labels: Record<string, string> = {};
		for (const pair of (match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1] as string] = pair[2] as string;
		samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
	}
	return samples;
}

/** The value of the one series `name` whose labels include `labels`; undefined when absent. */
function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
	const found = samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
	if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`);
	return found[0]?.value;
}

async function scrape(url: string, token?: string): Promise<Sample[]> {
	const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
	expect(res.status).toBe(200);
	expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
	return parseMetrics(await res.text());
}

beforeAll(async () => {
	const metricsPort = await freePort();
	runnerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
	queue = new BullRunQueue({ redisUrl: TEST_REDIS_URL, prefix: PREFIX });
	idleQueue = new BullRunQueue({ redisUrl: TEST_REDIS_URL, prefix: IDLE_PREFIX });
	[runner, s, idle] = await Promise.all([
		startRunner(TEST_REDIS_URL, PREFIX, { METRICS_PORT: String(metricsPort) }),
		startTestServer({ NODE_ID }, { routes: [runRouteGroup({ queue })] }),
		// No NODE_ID; METRICS_TOKEN set.
		startTestServer({ METRICS_TOKEN }, { routes: [runRouteGroup({ queue: idleQueue })] }),
	]);
	owner = await registerUser(s.url, "metricsowner");
	sessionId = (await createSession(s.url, owner.token, { language: "python", code: "print('hi')\n" })).id;
}, 240_000);

afterAll(async () => {
	await s?.close();
	await idle?.close();
	await queue?.close();
	await idleQueue?.close();
	await stopRunner(runner, TEST_REDIS_URL, PREFIX);
	await stopRunner(undefined, TEST_REDIS_URL, IDLE_PREFIX);
});

describe("GET /readyz", () => {
	it("names the node that answered (NODE_ID)", async () => {
		const res = await api(s.url, "GET", "/readyz");
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ status: "ready", nodeId: NODE_ID });
	});

	it("names the node by host and process when NODE_ID is unset", async () => {
		const res = await api(idle.url, "GET", "/readyz");
		expect(res.body.nodeId).toMatch(new RegExp(`-${process.pid}$`));
	});
});

describe("GET /metrics on the sync server", () => {
	it("counts HTTP requests by method, route pattern and status", async () => {
		const before = await scrape(`${s.url}/metrics`);
		const missing = `/session/${nanoid(10)}`;
		expect((await api(s.url, "GET", "/livez")).status).toBe(200);
		expect((await api(s.url, "GET", missing, { token: owner.token })).status).toBe(404);
		expect((await api(s.url, "GET", `/no-such-route-${nanoid(6)}`)).status).toBe(404);
		const after = await scrape(`${s.url}/metrics`);
		const delta = (labels: Record<string, string>) =>
			(valueOf(after, "tandem_http_requests_total", labels) ?? 0) -
			(valueOf(before, "tandem_http_requests_total", labels) ?? 0);
		expect(delta({ method: "GET", route: "/livez", status: "200" })).toBe(1);
		expect(delta({ method: "GET", route: "/session/:sessionId", status: "404" })).toBe(1);
		expect(delta({ method: "GET", route: "(unmatched)", status: "404" })).toBe(1);
		expect(
			valueOf(after, "tandem_http_request_duration_seconds_count", { method: "GET", route: "/livez", status: "200" }),
		).toBeGreaterThanOrEqual(1);
		expect(valueOf(after, "tandem_node_info", { node_id: NODE_ID })).toBe(1);
		// prom-client's process metrics come along.
		expect(valueOf(after, "process_cpu_seconds_total")).toBeGreaterThan(0);
	});

	it("reports open collaboration connections and loaded documents", async () => {
		const client = await connectClient(s.wsUrl, sessionId, owner.token);
		try {
			const open = await scrape(`${s.url}/metrics`);
			expect(valueOf(open, "tandem_collab_connections")).toBe(1);
			expect(valueOf(open, "tandem_documents_loaded")).toBe(1);
		} finally {
			client.destroy();
		}
		await eventually(async () => valueOf(await scrape(`${s.url}/metrics`), "tandem_collab_connections") === 0);
	});

	it("reports a run waiting in the queue as queued", async () => {
		const idleOwner = await registerUser(idle.url, "metricsidle");
		const idleSession = (await createSession(idle.url, idleOwner.token, { language: "python", code: "print(1)\n" })).id;
		// No runner pulls from this queue: the submitted job stays queued.
		const submitted = await api(idle.url, "POST", "/submit-code", {
			token: idleOwner.token,
			body: { sessionId: idleSession },
		});
		expect(submitted.status).toBe(202);
		const samples = await scrape(`${idle.url}/metrics`, METRICS_TOKEN);
		expect(valueOf(samples, "tandem_runs", { state: "queued" })).toBe(1);
		expect(valueOf(samples, "tandem_runs", { state: "running" })).toBe(0);
	});

	it("reports a run in flight as running, and its duration by kind, language and status once answered", async () => {
		const labels = { kind: "run", language: "python", status: "ok" };
		const countOf = (samples: Sample[]) => valueOf(samples, "tandem_run_duration_seconds_count", labels) ?? 0;
		const runnerCountOf = (samples: Sample[]) =>
			valueOf(samples, "tandem_runner_job_duration_seconds_count", { language: "python", status: "ok" }) ?? 0;
		const before = countOf(await scrape(`${s.url}/metrics`));
		const runnerBefore = runnerCountOf(await scrape(runnerMetricsUrl));
		// Sleeps for most of the default 5 s wall limit, so the run is seen while it runs.
		const answered = api(s.url, "POST", "/execute-code", {
			token: owner.token,
			body: { sessionId, language: "python", code: "import time\ntime.sleep(4)\nprint('done')\n" },
		});
		await eventually(async () => {
			const [server, inRunner] = await Promise.all([scrape(`${s.url}/metrics`), scrape(runnerMetricsUrl)]);
			return (
				valueOf(server, "tandem_runs", { state: "running" }) === 1 &&
				valueOf(inRunner, "tandem_runner_jobs_running") === 1
			);
		});
		const res = await answered;
		expect(res.status).toBe(200);
		expect(res.body.status).toBe("ok");
		await eventually(async () => countOf(await scrape(`${s.url}/metrics`)) === before + 1);
		const server = await scrape(`${s.url}/metrics`);
		expect(valueOf(server, "tandem_run_duration_seconds_sum", labels)).toBeGreaterThan(0);
		expect(valueOf(server, "tandem_runs", { state: "running" })).toBe(0);
		expect(valueOf(server, "tandem_runs", { state: "queued" })).toBe(0);
		const inRunner = await scrape(runnerMetricsUrl);
		expect(runnerCountOf(inRunner)).toBe(runnerBefore + 1);
		expect(valueOf(inRunner, "tandem_runner_jobs_running")).toBe(0);
		expect(valueOf(inRunner, "tandem_runner_concurrency")).toBe(2);
	}, 60_000);
});

describe("METRICS_TOKEN", () => {
	it("makes the sync server's GET /metrics answer 401 without the bearer token", async () => {
		const without = await api(idle.url, "GET", "/metrics");
		expect(without.status).toBe(401);
		expect(without.body.error.message).toMatch(/METRICS_TOKEN/);
		const wrong = await fetch(`${idle.url}/metrics`, { headers: { authorization: "Bearer not-the-token-at-all" } });
		expect(wrong.status).toBe(401);
		const samples = await scrape(`${idle.url}/metrics`, METRICS_TOKEN);
		expect(valueOf(samples, "tandem_collab_connections")).toBe(0);
	});
});
