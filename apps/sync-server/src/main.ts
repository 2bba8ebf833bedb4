import { createRunQueue, type RunQueue } from "@tandem/run-queue";
import { ConfigError, loadConfig } from "./config.ts";
import { runRouteGroup } from "./runs/runRouteGroup.ts";
import { serve } from "./serve.ts";

let config: ReturnType<typeof loadConfig>;
try {
	config = loadConfig();
} catch (e: unknown) {
	console.error(e instanceof ConfigError ? e.message : e);
	process.exit(1);
}

// Standalone sync-server: runners are separate processes reached through BullMQ on REDIS_URL.
const queue: RunQueue | null = config.redisUrl
	? createRunQueue({ redisUrl: config.redisUrl, prefix: process.env.RUN_QUEUE_PREFIX ?? "tandem" })
	: null;
await serve(
	config,
	{
		routes: [
			runRouteGroup({
				queue,
				unavailableReason: "No runner available: start the sync-server with REDIS_URL and run apps/runner",
			}),
		],
	},
	{ onShutdown: async () => queue?.close() },
);
