import rateLimit from "@fastify/rate-limit";
import { createRedis } from "@tandem/run-queue";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import { ApiError } from "../http/errors.ts";

/**
 * How many runs (POST /execute-code, /submit-code and /session/{id}/run-tests together) one user
 * and one session may start per minute (RELIABILITY 48). Past either, the call answers 429 with
 * Retry-After. Request rate only: how many of a user's runs may wait or run at once is the queue's
 * bound (`maxPendingPerUser`, @tandem/run-queue).
 */
export interface RunRateLimits {
	/** Runs one user may start per minute, in every session together. */
	readonly perUserPerMinute: number;
	/** Runs all participants of one session together may start per minute. */
	readonly perSessionPerMinute: number;
}

/**
 * 30 a minute is a run every two seconds, more than a person clicking "Run" needs; a session
 * of an interviewer and a candidate or a small pair gets twice that.
 */
export const DEFAULT_RUN_RATE_LIMITS: RunRateLimits = Object.freeze({ perUserPerMinute: 30, perSessionPerMinute: 60 });

/** `RUN_RATE_PER_USER` and `RUN_RATE_PER_SESSION` (runs per minute), else the defaults. */
export function runRateLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): RunRateLimits {
	const read = (name: string, fallback: number): number => {
		const raw = env[name];
		if (raw === undefined || raw === "") return fallback;
		const n = Number(raw);
		if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number of runs per minute`);
		return n;
	};
	return {
		perUserPerMinute: read("RUN_RATE_PER_USER", DEFAULT_RUN_RATE_LIMITS.perUserPerMinute),
		perSessionPerMinute: read("RUN_RATE_PER_SESSION", DEFAULT_RUN_RATE_LIMITS.perSessionPerMinute),
	};
}

const WINDOW_MS = 60_000;

/** Checks a run request against the per-user and per-session rates. */
export type RunRateCheck = (request: FastifyRequest, userId: string, sessionId: string) => Promise<void>;

/**
 * Register @fastify/rate-limit on `scope` (an encapsulated context of the run routes: no other
 * route is limited) and answer a check for the run routes. With `redisUrl` every node counts into
 * one budget (its Redis store); a Redis error lets the run through (`skipOnError`), since the
 * queue on the same Redis then refuses it anyway. The check runs inside the handler, after
 * authentication and after the session is known, which the plugin's own hooks cannot key on.
 */
export async function registerRunRateLimits(
	scope: FastifyInstance,
	limits: RunRateLimits,
	redis: { url: string; prefix: string } | undefined,
): Promise<RunRateCheck> {
	const client = redis ? createRedis(redis.url, { connectTimeout: 1000, maxRetriesPerRequest: 1 }) : undefined;
	client?.on("error", () => undefined);
	if (client) scope.addHook("onClose", async () => void client.disconnect());
	await scope.register(rateLimit, {
		global: false,
		skipOnError: true,
		...(client && redis ? { redis: client, nameSpace: `${redis.prefix}:run-rate:` } : {}),
	});
	const keys = new WeakMap<FastifyRequest, { user: string; session: string }>();
	const perUser = scope.createRateLimit({
		max: limits.perUserPerMinute,
		timeWindow: WINDOW_MS,
		keyGenerator: (request) => `u:${keys.get(request)?.user ?? ""}`,
	});
	const perSession = scope.createRateLimit({
		max: limits.perSessionPerMinute,
		timeWindow: WINDOW_MS,
		keyGenerator: (request) => `s:${keys.get(request)?.session ?? ""}`,
	});
	return async (request, userId, sessionId) => {
		keys.set(request, { user: userId, session: sessionId });
		const user = await perUser(request);
		if (!user.isAllowed && user.isExceeded) {
			throw limited(user.ttlInSeconds, `You started ${limits.perUserPerMinute} runs in the last minute`);
		}
		const session = await perSession(request);
		if (!session.isAllowed && session.isExceeded) {
			throw limited(session.ttlInSeconds, `This session started ${limits.perSessionPerMinute} runs in the last minute`);
		}
	};
}

function limited(ttlSeconds: number, why: string): ApiError {
	const seconds = Math.max(1, Math.ceil(ttlSeconds));
	return new ApiError("rate_limited", `${why}; try again in ${seconds} s`, {
		headers: { "retry-after": String(seconds) },
	});
}
