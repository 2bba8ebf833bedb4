// The runner's probe endpoints (issue 14): Kubernetes probes /livez and /readyz on the metrics port,
// without METRICS_TOKEN; /readyz turns 503 once the runner drains.
import { afterEach, describe, expect, it } from "vitest";
import { createRunnerMetrics, type MetricsServer, startMetricsServer } from "./metrics.ts";

let server: MetricsServer | undefined;
afterEach(async () => {
	await server?.close();
	server = undefined;
});

describe("runner metrics listener probes", () => {
	it("answers /livez and /readyz without the token, /readyz 503 once draining, /metrics still needs the token", async () => {
		let ready = true;
		server = await startMetricsServer(createRunnerMetrics({ concurrency: 1 }).registry, {
			host: "127.0.0.1",
			port: 0,
			token: "a-metrics-token-of-16+",
			ready: () => ready,
		});
		expect((await fetch(`${server.url}/livez`)).status).toBe(200);
		expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
		expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
		ready = false;
		const draining = await fetch(`${server.url}/readyz`);
		expect(draining.status).toBe(503);
		expect(await draining.text()).toContain("draining");
		expect((await fetch(`${server.url}/livez`)).status).toBe(200);
		expect((await fetch(`${server.url}/other`)).status).toBe(404);
	});
});
