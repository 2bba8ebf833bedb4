import { timingSafeEqual } from "node:crypto";
import type { Hocuspocus } from "@hocuspocus/server";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { ApiError } from "./errors.ts";

/** The label of requests that matched no route (404s of unknown paths): keeps the label set bounded. */
export const UNMATCHED_ROUTE = "(unmatched)";

/**
 * Seconds. From a health check (under 1 ms) to a POST /execute-code waiting for a verdict
 * (minutes: a queued job, then up to 100 inputs).
 */
const HTTP_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/**
 * Seconds from submitting a run to its verdict on this node: one input takes about 0.1–0.5 s,
 * a run is cut at 5 s wall (compile 30 s), and a test run is up to 100 inputs.
 */
const RUN_BUCKETS_S = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];

/** What the run-queue instrumentation (runs/runMetrics.ts) records into. */
export interface RunMetrics {
	/** Jobs submitted through this node, by state (`queued` | `running`), read at scrape time. */
	setInFlight(read: () => { queued: number; running: number }): void;
	/** A verdict for a job submitted through this node: seconds from submit to verdict. */
	observeRun(labels: { kind: "run" | "test"; language: string; status: string }, seconds: number): void;
	/** A run's result row or a test run's report written by this node (each is written by one node: issue 13 step 4). */
	countStored(kind: "run" | "test"): void;
}

/** One sync-server node's Prometheus registry (one per server, so tests may build several in one process). */
export interface ServerMetrics {
	readonly registry: Registry;
	readonly runs: RunMetrics;
}

/**
 * Metric names are prefixed `tandem_`; process metrics (CPU, memory, event-loop lag, GC) come
 * from prom-client's defaults. Open connections and loaded documents are read from Hocuspocus
 * at scrape time.
 */
export function createServerMetrics(options: { nodeId: string; hocuspocus: Hocuspocus }): ServerMetrics {
	const registry = new Registry();
	collectDefaultMetrics({ register: registry });
	const registers = [registry];
	new Gauge({
		name: "tandem_node_info",
		help: "Always 1; its label names this node (NODE_ID, also in GET /readyz).",
		labelNames: ["node_id"],
		registers,
	}).set({ node_id: options.nodeId }, 1);
	new Gauge({
		name: "tandem_collab_connections",
		help: "Open collaboration WebSocket connections on this node.",
		registers,
		collect() {
			this.set(options.hocuspocus.getConnectionsCount());
		},
	});
	new Gauge({
		name: "tandem_documents_loaded",
		help: "Documents held in memory on this node.",
		registers,
		collect() {
			this.set(options.hocuspocus.getDocumentsCount());
		},
	});
	let readInFlight = () => ({ queued: 0, running: 0 });
	new Gauge({
		name: "tandem_runs",
		help: "Runs and test runs submitted through this node and not answered yet, by state.",
		labelNames: ["state"],
		registers,
		collect() {
			const counts = readInFlight();
			this.set({ state: "queued" }, counts.queued);
			this.set({ state: "running" }, counts.running);
		},
	});
	const runDuration = new Histogram({
		name: "tandem_run_duration_seconds",
		help: "Seconds from submitting a run or test run through this node to its verdict, by kind, language and status.",
		labelNames: ["kind", "language", "status"],
		buckets: RUN_BUCKETS_S,
		registers,
	});
	const stored = new Counter({
		name: "tandem_run_results_stored_total",
		help: "Run results and test reports this node wrote to the database (one node writes each), by kind.",
		labelNames: ["kind"],
		registers,
	});
	return {
		registry,
		runs: {
			countStored(kind) {
				stored.inc({ kind });
			},
			setInFlight(read) {
				readInFlight = read;
			},
			observeRun(labels, seconds) {
				runDuration.observe(labels, seconds);
			},
		},
	};
}

function tokenMatches(request: FastifyRequest, token: string): boolean {
	const given = Buffer.from(/^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? "");
	const expected = Buffer.from(token);
	return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Count every HTTP request by method, route pattern and status (an `onResponse` hook: register
 * before the routes), and serve `GET /metrics` in Prometheus text format. With `token` set
 * (METRICS_TOKEN), a scrape must send `Authorization: Bearer <token>`, else 401.
 */
export function registerMetricsRoutes(app: FastifyInstance, metrics: ServerMetrics, token: string | undefined): void {
	const registers = [metrics.registry];
	const requests = new Counter({
		name: "tandem_http_requests_total",
		help: "HTTP requests answered, by method, route pattern and status code.",
		labelNames: ["method", "route", "status"],
		registers,
	});
	const durations = new Histogram({
		name: "tandem_http_request_duration_seconds",
		help: "Seconds from receiving an HTTP request to the end of its answer, by method, route pattern and status code.",
		labelNames: ["method", "route", "status"],
		buckets: HTTP_BUCKETS_S,
		registers,
	});
	app.addHook("onResponse", async (request, reply) => {
		const labels = {
			method: request.method,
			route: request.routeOptions.url ?? UNMATCHED_ROUTE,
			status: String(reply.statusCode),
		};
		requests.inc(labels);
		durations.observe(labels, reply.elapsedTime / 1000);
	});
	app.get("/metrics", async (request, reply) => {
		if (token !== undefined && !tokenMatches(request, token)) {
			throw new ApiError("unauthorized", "GET /metrics needs Authorization: Bearer <METRICS_TOKEN>", {
				headers: { "www-authenticate": 'Bearer realm="metrics"' },
			});
		}
		return reply
			.header("cache-control", "no-store")
			.type(metrics.registry.contentType)
			.send(await metrics.registry.metrics());
	});
}
