import { createRunQueue } from "@tandem/run-queue";
import { loadRunnerConfig } from "./config.ts";
import { createRunnerMetrics, type MetricsServer, startMetricsServer } from "./metrics.ts";
import { startRunnerPool } from "./pool/startRunnerPool.ts";
import { drainOwnBoxes, killOwnBoxes, sweepOrphanBoxes } from "./pool/sweepOrphanBoxes.ts";
import { closeWarmBoxes } from "./sandbox/box.ts";
import { prepareSandbox } from "./sandbox/executeJob.ts";

// A standalone runner: pulls jobs from BullMQ on Redis. SIGTERM stops taking jobs, lets the
// running ones finish for up to RUNNER_DRAIN_MS, then exits 0; an unfinished job's lock lapses
// and another runner takes it over.
function fatal(message: string): never {
	console.error(`runner: fatal: ${message}`);
	process.exit(1);
}

let config: ReturnType<typeof loadRunnerConfig>;
try {
	config = loadRunnerConfig();
} catch (e: unknown) {
	fatal(e instanceof Error ? e.message : String(e));
}
if (!config.redisUrl)
	fatal("REDIS_URL is required for a standalone runner (the embedded pool runs inside `npm start`)");

try {
	await prepareSandbox();
} catch (e: unknown) {
	fatal(e instanceof Error ? e.message : String(e));
}

// Boxes of a runner that was SIGKILLed here outlive it; remove them now and from time to time.
const ORPHAN_SWEEP_MS = 30_000;
const sweep = (): void => {
	sweepOrphanBoxes()
		.then((n) => n > 0 && console.log(`runner: removed ${n} orphaned box cgroups`))
		.catch((e: unknown) => console.error("runner: sweeping orphaned boxes failed", e));
};
await sweepOrphanBoxes().catch((e: unknown) => console.error("runner: sweeping orphaned boxes failed", e));
const sweeper = setInterval(sweep, ORPHAN_SWEEP_MS);
sweeper.unref();

const queue = createRunQueue({
	redisUrl: config.redisUrl,
	prefix: config.queuePrefix,
	lockDurationMs: config.lockMs,
	stalledIntervalMs: config.lockMs,
});
/** Set by SIGTERM/SIGINT: /readyz answers 503 from then on. */
let stopping = false;
const metrics = createRunnerMetrics({ concurrency: config.concurrency });
let metricsServer: MetricsServer | undefined;
if (config.metrics) {
	try {
		metricsServer = await startMetricsServer(metrics.registry, { ...config.metrics, ready: () => !stopping });
	} catch (e: unknown) {
		fatal(`cannot serve metrics on ${config.metrics.host}:${config.metrics.port}: ${String(e)}`);
	}
	console.log(`runner: metrics at ${metricsServer.url}/metrics`);
}
const pool = startRunnerPool({
	queue: metrics.instrument(queue),
	concurrency: config.concurrency,
	limits: config.limits,
});
console.log(
	`runner: pulling jobs (prefix ${config.queuePrefix}, concurrency ${config.concurrency}, pid ${process.pid})`,
);

async function shutdown(signal: string): Promise<void> {
	if (stopping) return;
	stopping = true;
	clearInterval(sweeper);
	console.log(`runner: ${signal}, draining`);
	const drained = await Promise.race([
		pool.close().then(() => true),
		new Promise<boolean>((r) => setTimeout(() => r(false), config.drainMs).unref()),
	]);
	if (!drained) {
		// Our boxes would outlive us (their wall-clock timers die with this process). Kill them and
		// exit in the same tick, so no half-run verdict is reported; the unfinished jobs' locks lapse
		// and another runner takes them over.
		killOwnBoxes();
		console.log("runner: drain time over; unfinished jobs go to another runner");
		process.exit(0);
	}
	await Promise.race([queue.close(), new Promise((r) => setTimeout(r, 2_000).unref())]);
	await metricsServer?.close();
	// No job runs any more: whatever is still in a box of ours (a box the sandbox kept ready) would
	// outlive us.
	await Promise.race([closeWarmBoxes().catch(() => {}), new Promise((r) => setTimeout(r, 5_000).unref())]);
	if (!(await drainOwnBoxes(5_000))) console.error("runner: a box still held processes at exit");
	process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
