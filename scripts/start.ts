// Root `npm start`: the whole product in one process. The sync-server (REST, collaboration, the
// built editor) and an in-process runner pool share one RunQueue: in-process by default, BullMQ
// when REDIS_URL is set (then more runners and sync-server nodes may join). If the sandbox cannot
// start (no bubblewrap, no cgroups), the app still starts; run routes answer 503 with the reason.
import { loadRunnerConfig, type RunnerConfig } from "../apps/runner/src/config.ts";
import { listLanguages, prepareSandbox, type RunnerPool, startRunnerPool } from "../apps/runner/src/index.ts";
import { ConfigError, loadConfig } from "../apps/sync-server/src/config.ts";
import { runRouteGroup } from "../apps/sync-server/src/runs/runRouteGroup.ts";
import { serve } from "../apps/sync-server/src/serve.ts";
import { createRunQueue, type RunQueue } from "../packages/run-queue/src/index.ts";

function fatal(message: string): never {
	console.error(JSON.stringify({ level: "fatal", msg: message }));
	process.exit(1);
}

let config: ReturnType<typeof loadConfig>;
let runnerConfig: RunnerConfig;
try {
	config = loadConfig();
	runnerConfig = loadRunnerConfig();
} catch (e: unknown) {
	fatal(e instanceof ConfigError || e instanceof Error ? e.message : String(e));
}

let queue: RunQueue | null = null;
let pool: RunnerPool | null = null;
let unavailableReason: string | undefined;
try {
	await prepareSandbox();
	queue = createRunQueue(
		config.redisUrl
			? {
					redisUrl: config.redisUrl,
					prefix: runnerConfig.queuePrefix,
					lockDurationMs: runnerConfig.lockMs,
					stalledIntervalMs: runnerConfig.lockMs,
				}
			: {},
	);
	// The pool shares the sync server's large process whatever the queue: boxes spawn from a helper process.
	pool = startRunnerPool({
		queue,
		concurrency: runnerConfig.concurrency,
		limits: runnerConfig.limits,
		helperProcess: true,
	});
} catch (e: unknown) {
	unavailableReason = `Code execution is unavailable on this machine: ${e instanceof Error ? e.message : String(e)}`;
	console.error(JSON.stringify({ level: "warn", msg: unavailableReason }));
	await queue?.close().catch(() => {});
	queue = null;
}

await serve(
	config,
	{
		routes: [
			runRouteGroup({
				queue,
				...(unavailableReason ? { unavailableReason } : {}),
				languages: listLanguages,
			}),
		],
	},
	{
		async onShutdown() {
			await pool?.close();
			await queue?.close();
		},
	},
);
