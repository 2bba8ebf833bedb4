import { Redis, type RedisOptions } from "ioredis";

/** A Redis URL Tandem accepts: one server (`redis://`, `rediss://`) or a Sentinel set (`redis-sentinel://`). */
export const REDIS_URL_PATTERN = /^(rediss?|redis-sentinel):\/\//;

/** Thrown for a REDIS_URL that cannot be parsed; the message says what is wrong in words. */
export class RedisUrlError extends Error {
	override name = "RedisUrlError";
}

function hostPort(entry: string, url: string): { host: string; port: number } {
	const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
	const port = Number(match?.[2] ?? 26379);
	if (!match?.[1] || port < 1 || port > 65_535) {
		throw new RedisUrlError(`REDIS_URL: "${entry}" in ${url.replace(/\/\/[^@/]*@/, "//***@")} is not host:port`);
	}
	return { host: match[1].replace(/^\[|\]$/g, ""), port };
}

/**
 * ioredis options for a Redis URL (issue 13 step 5):
 * - `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS): one server.
 * - `redis-sentinel://[user:password@]host1[:port1],host2[:port2],…/primaryName[/db]`: ask the Sentinels
 *   (port default 26379) for the current primary of `primaryName` and follow it across failovers. The
 *   password is the data servers'; Sentinels that need their own take it from `?sentinelPassword=`.
 * Throws RedisUrlError for anything else.
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
	const sentinel =
		/^redis-sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]+)\/([^/?]+)(?:\/(\d+))?\/?(?:\?(.*))?$/.exec(url);
	if (sentinel) {
		const [, user, password, hosts = "", name = "", db, query] = sentinel;
		const params = new URLSearchParams(query ?? "");
		const sentinelPassword = params.get("sentinelPassword");
		return {
			sentinels: hosts.split(",").map((entry) => hostPort(entry.trim(), url)),
			name: decodeURIComponent(name),
			...(user ? { username: decodeURIComponent(user) } : {}),
			...(password ? { password: decodeURIComponent(password) } : {}),
			...(sentinelPassword ? { sentinelPassword } : {}),
			db: Number(db ?? 0),
		};
	}
	if (url.startsWith("redis-sentinel://")) {
		throw new RedisUrlError("REDIS_URL: a Sentinel URL is redis-sentinel://host1:26379,host2:26379/primaryName");
	}
	let u: URL;
	try {
		u = new URL(url);
	} catch {
		throw new RedisUrlError("REDIS_URL: not a URL; expected redis://host:6379 or redis-sentinel://…");
	}
	if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
		throw new RedisUrlError("REDIS_URL: must start with redis://, rediss:// or redis-sentinel://");
	}
	return {
		host: u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
		port: Number(u.port || 6379),
		...(u.username ? { username: decodeURIComponent(u.username) } : {}),
		...(u.password ? { password: decodeURIComponent(u.password) } : {}),
		...(u.protocol === "rediss:" ? { tls: {} } : {}),
		db: Number(u.pathname.replace("/", "") || 0),
	};
}

/**
 * The one place Tandem opens a Redis connection: a server or a Sentinel-followed primary from `url`
 * (redisOptionsFromUrl), with `options` (retry and queue behaviour of the caller) on top.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
	return new Redis({ ...redisOptionsFromUrl(url), ...options });
}
