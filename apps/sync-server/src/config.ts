import { isIP } from "node:net";
import { hostname } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { redisOptionsFromUrl } from "@tandem/run-queue";
import { z } from "zod";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const DURATION = /^(\d+)\s*(s|m|h|d)?$/;
const SECONDS_PER_UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

function parseDurationSeconds(value: string): number | null {
	const match = DURATION.exec(value.trim());
	if (!match) return null;
	return Number(match[1]) * (SECONDS_PER_UNIT[match[2] ?? "s"] ?? 1);
}

/** Postgres connections per node (DATABASE_POOL_MAX): postgres.js's default; 5,000 nodes × 10 needs a pooler. */
export const DEFAULT_DATABASE_POOL_MAX = 10;

/**
 * How long a draining node keeps its sockets open after /readyz turns 503, so the balancer notices first (ms):
 * deploy/haproxy.cfg checks every 2 s and marks a node down after 2 failures (`inter 2s fall 2`) = 4 s, plus 1 s slack.
 */
export const DEFAULT_DRAIN_DELAY_MS = 5000;
/**
 * How many sockets a draining node closes per second (issue 13 step 7): 500 clients of one node reconnect over
 * about 2 s instead of at once, so a rolling restart of many nodes is no reconnect storm.
 */
export const DEFAULT_DRAIN_SOCKETS_PER_SECOND = 500;

const schema = z
	.object({
		PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
		HOST: z.string().min(1).default("127.0.0.1"),
		DATA_DIR: z.string().min(1).default("./data"),
		DATABASE_URL: z.string().optional(),
		DATABASE_POOL_MODE: z.enum(["session", "transaction"]).default("session"),
		DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(DEFAULT_DATABASE_POOL_MAX),
		DATABASE_MIGRATION_URL: z.string().optional(),
		DATABASE_SCHEMA: z
			.string()
			.regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a plain lower-case SQL identifier")
			.optional(),
		REDIS_URL: z
			.string()
			.regex(/^(rediss?|redis-sentinel):\/\//, "must start with redis://, rediss:// or redis-sentinel://")
			.optional(),
		REDIS_PREFIX: z
			.string()
			.regex(/^[A-Za-z0-9_:-]{1,64}$/)
			.default("tandem"),
		EDITOR_DIST: z.string().optional(),
		TOKEN_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
		TOKEN_TTL: z
			.string()
			.default("7d")
			.transform((v, ctx) => {
				const seconds = parseDurationSeconds(v);
				if (seconds === null || seconds < 60) {
					ctx.addIssue({ code: "custom", message: "must be a duration of at least 60s like 3600, 90m, 12h or 7d" });
					return z.NEVER;
				}
				return seconds;
			}),
		PERSIST_DEBOUNCE_MS: z.coerce.number().int().min(0).max(600_000).default(2000),
		PERSIST_MAX_DEBOUNCE_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
		COLLAB_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(45_000),
		ALLOWED_ORIGINS: z.string().default(""),
		ALLOWED_HOSTS: z.string().optional(),
		TRUST_PROXY: z.string().optional(),
		BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
		WS_MAX_PAYLOAD_BYTES: z.coerce
			.number()
			.int()
			.min(65_536)
			// Twice MAX_DOCUMENT_BYTES (crdt-schema): a whole document's first sync fits with room to spare.
			.default(2 * 1_048_576),
		NODE_ID: z
			.string()
			.regex(/^[A-Za-z0-9._:-]{1,128}$/, "letters, digits, '.', '_', ':' and '-' only (at most 128)")
			.optional(),
		DRAIN_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(DEFAULT_DRAIN_DELAY_MS),
		DRAIN_SOCKETS_PER_SECOND: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_DRAIN_SOCKETS_PER_SECOND),
		METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
		MIGRATE_ON_START: z
			.enum(["true", "false", "1", "0"], { message: 'must be "true" or "false"' })
			.default("true")
			.transform((v) => v === "true" || v === "1"),
		LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
	})
	.refine((c) => c.PERSIST_MAX_DEBOUNCE_MS >= c.PERSIST_DEBOUNCE_MS, {
		message: "PERSIST_MAX_DEBOUNCE_MS must be >= PERSIST_DEBOUNCE_MS",
		path: ["PERSIST_MAX_DEBOUNCE_MS"],
	});

/** The sync server's validated configuration (read once from the environment). */
export interface Config {
	readonly port: number;
	readonly host: string;
	readonly dataDir: string;
	/** A postgres:// URL, or undefined for file-backed PGlite in `dataDir/pglite`. */
	readonly databaseUrl: string | undefined;
	/** Postgres schema holding the tables (tests isolate themselves with one). */
	readonly databaseSchema: string | undefined;
	readonly redisUrl: string | undefined;
	readonly redisPrefix: string;
	readonly editorDist: string;
	readonly tokenSecret: string | undefined;
	readonly tokenTtlSeconds: number;
	readonly persistDebounceMs: number;
	readonly persistMaxDebounceMs: number;
	/** A collaboration socket silent this long is closed (and one not authenticated by then). */
	readonly collabTimeoutMs: number;
	/** Extra origins allowed for cookie POSTs and WebSocket upgrades (the server's own origin always is). */
	readonly allowedOrigins: readonly string[];
	/**
	 * Host header names this server answers to (RELIABILITY 51: DNS rebinding), lower-case, without
	 * port; null: any host. Default: the loopback names when HOST is loopback, HOST itself (plus
	 * loopback) when it is one address, any host when HOST is a wildcard (0.0.0.0, ::).
	 */
	readonly allowedHosts: readonly string[] | null;
	/**
	 * Fastify's trustProxy (issue 13): false (the default: the socket's address is the client), a hop
	 * count, or the addresses/CIDRs of trusted proxies whose X-Forwarded-For and -Proto are believed.
	 */
	readonly trustProxy: false | number | readonly string[];
	readonly bodyLimitBytes: number;
	readonly wsMaxPayloadBytes: number;
	readonly logLevel: string;
	/** Names this node in GET /readyz, /livez and the metrics (NODE_ID; default `hostname-pid`). */
	readonly nodeId: string;
	/**
	 * How DATABASE_URL pools (issue 13 step 5): "session" (a direct server, or PgBouncer in session mode) or
	 * "transaction" (PgBouncer in transaction mode: no named prepared statements, no session state).
	 */
	readonly databasePoolMode: "session" | "transaction";
	/** Connections this node opens to DATABASE_URL at most (DATABASE_POOL_MAX). */
	readonly databasePoolMax: number;
	/** Where migrations run (DATABASE_MIGRATION_URL, a direct server: they hold a session advisory lock); default DATABASE_URL. */
	readonly databaseMigrationUrl: string | undefined;
	/** After SIGTERM, how long readiness is 503 before sockets close (DRAIN_DELAY_MS; default DEFAULT_DRAIN_DELAY_MS). */
	readonly drainDelayMs: number;
	/** How many sockets per second a drain closes (DRAIN_SOCKETS_PER_SECOND; default DEFAULT_DRAIN_SOCKETS_PER_SECOND). */
	readonly drainSocketsPerSecond: number;
	/** When set, GET /metrics needs `Authorization: Bearer <token>`; unset, it is open like /readyz. */
	readonly metricsToken: string | undefined;
	/**
	 * MIGRATE_ON_START (default true): migrate the database at boot. False (a cluster whose migration
	 * Job runs `node apps/sync-server/src/migrate.ts` per release): boot only checks the schema is
	 * current and refuses to start when a migration is pending.
	 */
	readonly migrateOnStart: boolean;
}

/** Thrown at boot for an invalid environment; the message names every bad variable. */
export class ConfigError extends Error {
	override name = "ConfigError";
}

/** Validate an environment (defaults to process.env) into a frozen Config. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
	const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
	const parsed = schema.safeParse(cleaned);
	if (!parsed.success) {
		const lines = parsed.error.issues.map((i) => `${i.path.join(".") || "(env)"}: ${i.message}`);
		throw new ConfigError(`Invalid configuration:\n  ${lines.join("\n  ")}`);
	}
	const e = parsed.data;
	if (e.DATABASE_URL !== undefined && !/^postgres(ql)?:\/\//.test(e.DATABASE_URL)) {
		throw new ConfigError(
			"Invalid configuration:\n  DATABASE_URL: must be a postgres:// URL (leave it unset for PGlite)",
		);
	}
	const problems: string[] = [];
	if (e.DATABASE_MIGRATION_URL !== undefined && !/^postgres(ql)?:\/\//.test(e.DATABASE_MIGRATION_URL)) {
		problems.push("DATABASE_MIGRATION_URL: must be a postgres:// URL");
	}
	if (e.DATABASE_POOL_MODE === "transaction" && e.DATABASE_SCHEMA !== undefined) {
		// A transaction pooler hands each transaction any server connection: a per-connection search_path is lost.
		problems.push(
			"DATABASE_SCHEMA: not with DATABASE_POOL_MODE=transaction; set the role's search_path (ALTER ROLE … SET search_path) instead",
		);
	}
	if (e.REDIS_URL !== undefined) {
		try {
			redisOptionsFromUrl(e.REDIS_URL);
		} catch (error) {
			problems.push((error as Error).message);
		}
	}
	const trustProxy = parseTrustProxy(e.TRUST_PROXY, problems);
	const allowedHosts = parseAllowedHosts(e.ALLOWED_HOSTS, e.HOST, problems);
	if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}`);
	return Object.freeze({
		port: e.PORT,
		host: e.HOST,
		dataDir: path.resolve(e.DATA_DIR),
		databaseUrl: e.DATABASE_URL,
		databaseSchema: e.DATABASE_SCHEMA,
		redisUrl: e.REDIS_URL,
		redisPrefix: e.REDIS_PREFIX,
		editorDist: path.resolve(e.EDITOR_DIST ?? path.join(REPO_ROOT, "apps/editor/dist")),
		tokenSecret: e.TOKEN_SECRET,
		tokenTtlSeconds: e.TOKEN_TTL,
		persistDebounceMs: e.PERSIST_DEBOUNCE_MS,
		persistMaxDebounceMs: e.PERSIST_MAX_DEBOUNCE_MS,
		collabTimeoutMs: e.COLLAB_TIMEOUT_MS,
		allowedOrigins: Object.freeze(
			e.ALLOWED_ORIGINS.split(",")
				.map((s) => s.trim())
				.filter(Boolean),
		),
		allowedHosts,
		trustProxy,
		bodyLimitBytes: e.BODY_LIMIT_BYTES,
		wsMaxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
		logLevel: e.LOG_LEVEL,
		nodeId: e.NODE_ID ?? `${hostname()}-${process.pid}`,
		metricsToken: e.METRICS_TOKEN,
		databasePoolMode: e.DATABASE_POOL_MODE,
		databasePoolMax: e.DATABASE_POOL_MAX,
		databaseMigrationUrl: e.DATABASE_MIGRATION_URL,
		drainDelayMs: e.DRAIN_DELAY_MS,
		drainSocketsPerSecond: e.DRAIN_SOCKETS_PER_SECOND,
		migrateOnStart: e.MIGRATE_ON_START,
	});
}

/** An IPv4/IPv6 address, or one with a CIDR prefix length in range. */
function isAddressOrCidr(entry: string): boolean {
	const [address = "", prefix, ...rest] = entry.split("/");
	const family = isIP(address);
	if (family === 0 || rest.length > 0) return false;
	if (prefix === undefined) return true;
	return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function parseTrustProxy(value: string | undefined, problems: string[]): Config["trustProxy"] {
	if (value === undefined) return false;
	if (/^\d+$/.test(value.trim())) {
		const hops = Number(value.trim());
		if (hops < 1 || hops > 32) problems.push("TRUST_PROXY: a hop count must be 1-32");
		return hops;
	}
	const entries = value
		.split(",")
		.map((s) => s.trim())
		.filter(Boolean);
	const bad = entries.filter((entry) => !isAddressOrCidr(entry));
	if (entries.length === 0 || bad.length > 0) {
		problems.push(
			`TRUST_PROXY: must be a hop count or a comma-separated list of addresses or CIDRs (bad: ${bad.join(", ") || value})`,
		);
	}
	return Object.freeze(entries);
}

/** The names a loopback server is reached by. */
const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

function parseAllowedHosts(value: string | undefined, host: string, problems: string[]): readonly string[] | null {
	if (value !== undefined) {
		const entries = value
			.split(",")
			.map((s) => s.trim().toLowerCase())
			.filter(Boolean);
		if (entries.includes("*")) return null;
		const bad = entries.filter((entry) => !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(entry));
		if (entries.length === 0 || bad.length > 0) {
			problems.push(
				`ALLOWED_HOSTS: must be "*" or a comma-separated list of host names without port, IPv6 in brackets (bad: ${bad.join(", ") || value})`,
			);
		}
		return Object.freeze(entries);
	}
	const listen = host.toLowerCase();
	if (listen === "0.0.0.0" || listen === "::" || listen === "[::]") return null;
	const bracketed = isIP(listen) === 6 ? `[${listen}]` : listen;
	return Object.freeze([...new Set([...LOOPBACK_HOSTS, bracketed])]);
}
