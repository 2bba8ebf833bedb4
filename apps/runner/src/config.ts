import { availableParallelism } from "node:os";
import { z } from "zod";
import { type BoxLimits, checkLimits, defaultLimits, type Limits } from "./sandbox/limits.ts";

const MiB = 1024 * 1024;

/**
 * Limit overrides may only tighten the defaults, and never below a floor where ordinary
 * programs (an interpreter starting up, a compiler loading) could no longer run at all.
 */
const RUN_OVERRIDES = {
	RUNNER_RUN_CPU_SECONDS: { key: "cpuSeconds", floor: 1, scale: 1 },
	RUNNER_RUN_WALL_MS: { key: "wallMs", floor: 500, scale: 1 },
	RUNNER_RUN_MEMORY_MB: { key: "memoryBytes", floor: 32, scale: MiB },
	RUNNER_RUN_PIDS: { key: "pids", floor: 8, scale: 1 },
	RUNNER_RUN_OUTPUT_BYTES: { key: "outputBytes", floor: 1024, scale: 1 },
} as const satisfies Record<string, { key: keyof BoxLimits; floor: number; scale: number }>;

const COMPILE_OVERRIDES = {
	RUNNER_COMPILE_WALL_MS: { key: "wallMs", floor: 2_000, scale: 1 },
	RUNNER_COMPILE_MEMORY_MB: { key: "memoryBytes", floor: 128, scale: MiB },
} as const satisfies Record<string, { key: keyof BoxLimits; floor: number; scale: number }>;

const positiveInt = z.coerce.number().int().positive();

const envSchema = z.object({
	REDIS_URL: z
		.string()
		.regex(/^(rediss?|redis-sentinel):\/\//, "must start with redis://, rediss:// or redis-sentinel://")
		.optional(),
	RUN_QUEUE_PREFIX: z
		.string()
		.regex(/^[A-Za-z0-9:_-]{1,64}$/, "letters, digits, ':', '_' and '-' only")
		.default("tandem"),
	RUNNER_CONCURRENCY: positiveInt.max(256).optional(),
	/** How long SIGTERM waits for running jobs before leaving them to another runner. */
	RUNNER_DRAIN_MS: positiveInt.max(600_000).default(30_000),
	/** A runner's lock on a job; a killed runner's job is retried after about this long. */
	RUN_QUEUE_LOCK_MS: positiveInt.min(1_000).max(120_000).default(5_000),
	/** GET /metrics listens here (0: a free port); unset: no metrics listener. */
	METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
	METRICS_HOST: z.string().min(1).default("127.0.0.1"),
	METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
	...Object.fromEntries(
		[...Object.keys(RUN_OVERRIDES), ...Object.keys(COMPILE_OVERRIDES)].map((k) => [k, positiveInt.optional()]),
	),
});

export interface RunnerConfig {
	readonly redisUrl: string | undefined;
	readonly queuePrefix: string;
	readonly concurrency: number;
	readonly drainMs: number;
	readonly lockMs: number;
	readonly limits: Limits;
	/** Where GET /metrics listens; undefined when METRICS_PORT is unset. */
	readonly metrics: { readonly host: string; readonly port: number; readonly token: string | undefined } | undefined;
}

/** Thrown at boot for a bad environment; main prints it and exits 1. */
export class RunnerConfigError extends Error {
	readonly code = "invalid_config";
	constructor(message: string, options?: { cause?: unknown }) {
		super(message, options);
		this.name = "RunnerConfigError";
	}
}

function tighten(
	base: BoxLimits,
	overrides: Record<string, { key: keyof BoxLimits; floor: number; scale: number }>,
	env: Record<string, unknown>,
): BoxLimits {
	const out: Record<string, number> = { ...base };
	for (const [name, { key, floor, scale }] of Object.entries(overrides)) {
		const value = env[name];
		if (value === undefined) continue;
		const ceiling = base[key] / scale;
		if (typeof value !== "number" || value < floor || value > ceiling) {
			throw new RunnerConfigError(
				`${name} must be between ${floor} and ${ceiling} (limits can only be tightened), got ${String(value)}`,
			);
		}
		out[key] = value * scale;
	}
	return Object.freeze(out as unknown as BoxLimits);
}

/** Reads and validates the runner's environment once; throws RunnerConfigError. */
export function loadRunnerConfig(env: Record<string, string | undefined> = process.env): RunnerConfig {
	const parsed = envSchema.safeParse(env);
	if (!parsed.success) {
		throw new RunnerConfigError(
			`invalid runner environment: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
		);
	}
	const e = parsed.data as z.infer<typeof envSchema> & Record<string, unknown>;
	const defaults = defaultLimits();
	const limits = checkLimits(
		Object.freeze({
			run: tighten(defaults.run, RUN_OVERRIDES, e),
			compile: tighten(defaults.compile, COMPILE_OVERRIDES, e),
		}),
	);
	return Object.freeze({
		redisUrl: e.REDIS_URL,
		queuePrefix: e.RUN_QUEUE_PREFIX,
		concurrency: e.RUNNER_CONCURRENCY ?? availableParallelism(),
		drainMs: e.RUNNER_DRAIN_MS,
		lockMs: e.RUN_QUEUE_LOCK_MS,
		limits,
		metrics:
			e.METRICS_PORT === undefined
				? undefined
				: Object.freeze({ host: e.METRICS_HOST, port: e.METRICS_PORT, token: e.METRICS_TOKEN }),
	});
}
