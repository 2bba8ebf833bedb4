import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { RunQueue } from "@tandem/run-queue";
import { collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Seconds one job takes in this runner, from taking it to its verdict: one input takes about
 * 0.1–0.5 s, a run is cut at 5 s wall (compile 30 s), and a test run is up to 100 inputs.
 */
const JOB_BUCKETS_S = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];

/** A standalone runner's Prometheus registry and what records into it. */
export interface RunnerMetrics {
	readonly registry: Registry;
	/** `queue` with every job its `process` handler runs counted (running gauge, duration histogram). */
	instrument(queue: RunQueue): RunQueue;
}

/**
 * Metric names are prefixed `tandem_runner_`; process metrics (CPU, memory, event-loop lag)
 * come from prom-client's defaults. `concurrency` is the configured number of jobs at once.
 */
export function createRunnerMetrics(options: { concurrency: number }): RunnerMetrics {
	const registry = new Registry();
	collectDefaultMetrics({ register: registry });
	const registers = [registry];
	new Gauge({
		name: "tandem_runner_concurrency",
		help: "Jobs this runner runs at once at most (RUNNER_CONCURRENCY).",
		registers,
	}).set(options.concurrency);
	const running = new Gauge({ name: "tandem_runner_jobs_running", help: "Jobs running in this runner.", registers });
	const duration = new Histogram({
		name: "tandem_runner_job_duration_seconds",
		help: "Seconds from taking a job to its verdict in this runner, by language and status (`error`: the handler threw).",
		labelNames: ["language", "status"],
		buckets: JOB_BUCKETS_S,
		registers,
	});
	return {
		registry,
		instrument(queue) {
			return {
				kind: queue.kind,
				submit: (job) => queue.submit(job),
				status: (jobId) => queue.status(jobId),
				subscribe: (listener) => queue.subscribe(listener),
				close: () => queue.close(),
				process(handler, processOptions) {
					return queue.process(async (job, context) => {
						running.inc();
						const started = performance.now();
						let status = "error";
						try {
							const result = await handler(job, context);
							status = result.status;
							return result;
						} finally {
							running.dec();
							duration.observe({ language: job.language, status }, (performance.now() - started) / 1000);
						}
					}, processOptions);
				},
			};
		},
	};
}

function authorized(request: IncomingMessage, token: string | undefined): boolean {
	if (token === undefined) return true;
	const given = Buffer.from(/^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? "");
	const expected = Buffer.from(token);
	return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A listening metrics endpoint. */
export interface MetricsServer {
	/** e.g. http://127.0.0.1:9464 (the bound port: METRICS_PORT=0 picks a free one). */
	readonly url: string;
	close(): Promise<void>;
}

/**
 * A small HTTP listener serving `GET /metrics` (Prometheus text format), the probes `GET /livez`
 * (200 while the process runs) and `GET /readyz` (200, or 503 once `ready()` says false: draining),
 * and nothing else (404). The probes need no token, so Kubernetes probes work with METRICS_TOKEN
 * set. With `token`, a scrape must send `Authorization: Bearer <token>`, else 401. Rejects when it
 * cannot listen (port in use).
 */
export async function startMetricsServer(
	registry: Registry,
	options: { host: string; port: number; token: string | undefined; ready?: () => boolean },
): Promise<MetricsServer> {
	const server = createServer((request, response) => {
		const pathname = (request.url ?? "/").split("?")[0];
		if (pathname === "/livez" || pathname === "/readyz") {
			const ok = pathname === "/livez" || (options.ready?.() ?? true);
			response
				.writeHead(ok ? 200 : 503, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" })
				.end(ok ? "ok\n" : "draining\n");
			return;
		}
		if (pathname !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
			response
				.writeHead(404, { "content-type": "text/plain; charset=utf-8" })
				.end("Only GET /metrics, /livez and /readyz are served here.\n");
			return;
		}
		if (!authorized(request, options.token)) {
			response
				.writeHead(401, { "content-type": "text/plain; charset=utf-8", "www-authenticate": 'Bearer realm="metrics"' })
				.end("GET /metrics needs Authorization: Bearer <METRICS_TOKEN>\n");
			return;
		}
		registry.metrics().then(
			(text) => {
				response.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" });
				response.end(request.method === "HEAD" ? undefined : text);
			},
			(e: unknown) => {
				response.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(`metrics failed: ${String(e)}\n`);
			},
		);
	});
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port, options.host, () => {
			server.off("error", reject);
			resolve();
		});
	});
	const { port } = server.address() as AddressInfo;
	const host = options.host.includes(":") ? `[${options.host}]` : options.host;
	return {
		url: `http://${host}:${port}`,
		close: () =>
			new Promise((resolve) => {
				server.close(() => resolve());
				// A scraper's keep-alive connection would hold close() open.
				server.closeAllConnections();
			}),
	};
}
