import { LANGUAGES } from "@tandem/crdt-schema";
import type { RunQueue } from "@tandem/run-queue";
import type { RouteGroup } from "../server.ts";
import { registerTestRoutes } from "../testcases/testRoutes.ts";
import { RunHub } from "./RunHub.ts";
import { type RunRateLimits, registerRunRateLimits, runRateLimitsFromEnv } from "./runLimits.ts";
import { instrumentRunQueue } from "./runMetrics.ts";
import { type InstalledLanguage, type RunAccess, registerRunRoutes } from "./runRoutes.ts";

export interface RunRouteOptions {
	/** The queue runners pull from; null when none is available (routes answer 503). */
	readonly queue: RunQueue | null;
	/** Why no runner is available, in words (shown in the 503). */
	readonly unavailableReason?: string;
	/** Installed toolchains; defaults to every known language with version "unknown" (runners elsewhere). */
	readonly languages?: () => Promise<readonly InstalledLanguage[]>;
	/** How long POST /execute-code and /run-tests wait for a verdict. */
	readonly waitMs?: number;
	/** Runs per minute per user and per session; defaults from the environment (runRateLimitsFromEnv). */
	readonly rateLimits?: RunRateLimits;
}

/**
 * Generous: a queued job waits behind others, and a test run is up to 100 inputs each with
 * its own wall limit.
 */
const DEFAULT_WAIT_MS = 10 * 60_000;

/** The runs and test-case route groups, sharing one subscription to `queue` per server. */
export function runRouteGroup(options: RunRouteOptions): RouteGroup {
	return async (app, ctx) => {
		const instrumented = options.queue ? instrumentRunQueue(options.queue, ctx.metrics.runs) : null;
		const hub = instrumented ? new RunHub(ctx, instrumented.queue) : null;
		app.addHook("onClose", async () => {
			await hub?.close();
			instrumented?.stop();
		});
		const limits = options.rateLimits ?? runRateLimitsFromEnv();
		const redis = ctx.config.redisUrl ? { url: ctx.config.redisUrl, prefix: ctx.config.redisPrefix } : undefined;
		// An encapsulated context: the rate-limit plugin applies to these routes only.
		await app.register(async (scope) => {
			const checkRate = await registerRunRateLimits(scope, limits, redis);
			const access: RunAccess = {
				hub,
				unavailableReason:
					options.unavailableReason ?? "No runner available: this server has no run queue configured (set REDIS_URL)",
				languages:
					options.languages ?? (async () => LANGUAGES.map((l) => ({ id: l.id, name: l.name, version: "unknown" }))),
				waitMs: options.waitMs ?? DEFAULT_WAIT_MS,
				checkRate,
			};
			registerRunRoutes(scope, ctx, access);
			registerTestRoutes(scope, ctx, access);
		});
	};
}
