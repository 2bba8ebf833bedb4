import { createRedis } from "@tandem/run-queue";
import type { Redis } from "ioredis";

/** Limits for login attempts (RELIABILITY 26). */
export interface ThrottleLimits {
	/** Failures allowed per account+IP inside the window. */
	readonly perAccount: number;
	/** Attempts allowed per IP inside the window (credential stuffing). */
	readonly perIp: number;
	readonly windowMs: number;
}

// 10 wrong guesses per account per IP in 15 minutes stops brute force while a person who
// mistypes a few times never notices; the owner is locked out for at most one window.
export const DEFAULT_THROTTLE: ThrottleLimits = Object.freeze({ perAccount: 10, perIp: 100, windowMs: 15 * 60_000 });

/** Fixed-window attempt counters; answers are seconds to wait (0: go ahead). */
export interface Throttle {
	/** Seconds to wait before trying again, or 0 when the attempt may proceed. Counts the IP attempt. */
	check(account: string, ip: string): Promise<number>;
	/** Seconds to wait for this account+IP (failures only), without counting an attempt. */
	peek(account: string, ip: string): Promise<number>;
	/** Record a failed attempt for this account from this IP. */
	fail(account: string, ip: string): Promise<void>;
	/** A success clears the account's failures. */
	succeed(account: string, ip: string): Promise<void>;
}

const accountKey = (account: string, ip: string) => `a:${account.toLowerCase()}|${ip}`;
const ipKey = (ip: string) => `i:${ip}`;
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

interface Window {
	count: number;
	resetAt: number;
}

/** Counters in this node's memory: the embedded default, and the fallback while Redis is down. */
export class LoginThrottle implements Throttle {
	private readonly windows = new Map<string, Window>();
	private readonly limits: ThrottleLimits;
	private readonly now: () => number;

	constructor(limits: ThrottleLimits = DEFAULT_THROTTLE, now: () => number = Date.now) {
		this.limits = limits;
		this.now = now;
	}

	async check(account: string, ip: string): Promise<number> {
		return this.checkNow(account, ip);
	}

	async peek(account: string, ip: string): Promise<number> {
		return this.peekNow(account, ip);
	}

	async fail(account: string, ip: string): Promise<void> {
		this.failNow(account, ip);
	}

	async succeed(account: string, ip: string): Promise<void> {
		this.succeedNow(account, ip);
	}

	checkNow(account: string, ip: string): number {
		this.sweep();
		const accountWait = this.waitFor(accountKey(account, ip), this.limits.perAccount);
		const ipWait = this.bump(ipKey(ip), this.limits.perIp);
		return Math.max(accountWait, ipWait);
	}

	peekNow(account: string, ip: string): number {
		return this.waitFor(accountKey(account, ip), this.limits.perAccount);
	}

	failNow(account: string, ip: string): void {
		this.bump(accountKey(account, ip), Number.POSITIVE_INFINITY);
	}

	succeedNow(account: string, ip: string): void {
		this.windows.delete(accountKey(account, ip));
	}

	private waitFor(key: string, limit: number): number {
		const w = this.windows.get(key);
		if (!w || w.resetAt <= this.now() || w.count < limit) return 0;
		return seconds(w.resetAt - this.now());
	}

	private bump(key: string, limit: number): number {
		const now = this.now();
		let w = this.windows.get(key);
		if (!w || w.resetAt <= now) {
			w = { count: 0, resetAt: now + this.limits.windowMs };
			this.windows.set(key, w);
		}
		if (w.count >= limit) return seconds(w.resetAt - now);
		w.count++;
		return 0;
	}

	private sweep(): void {
		// Bound memory: expired windows go once the map grows.
		if (this.windows.size < 10_000) return;
		const now = this.now();
		for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
	}
}

// One round trip, atomic: KEYS[1] account key, KEYS[2] IP key; ARGV mode, perAccount, perIp, windowMs.
// Returns milliseconds to wait (0: go ahead). Every counter gets the window as its TTL on first INCR.
const SCRIPT = `
local function wait(key, limit)
  local c = tonumber(redis.call('GET', key) or '0')
  if c < limit then return 0 end
  local t = redis.call('PTTL', key)
  if t < 0 then return 0 end
  return t
end
local function bump(key, limit, window)
  local t = wait(key, limit)
  if t > 0 then return t end
  local c = redis.call('INCR', key)
  if c == 1 or redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, window) end
  return 0
end
local mode = ARGV[1]
local perAccount = tonumber(ARGV[2])
local window = tonumber(ARGV[4])
if mode == 'peek' then return wait(KEYS[1], perAccount) end
if mode == 'fail' then bump(KEYS[1], 9007199254740991, window) return 0 end
local a = wait(KEYS[1], perAccount)
local i = bump(KEYS[2], tonumber(ARGV[3]), window)
if a > i then return a end
return i
`;

const finite = (n: number) => (Number.isFinite(n) ? String(n) : "9007199254740991");

export interface RedisThrottleOptions {
	readonly url: string;
	/** Key prefix (the deployment's REDIS_PREFIX plus the throttle's name). */
	readonly prefix: string;
	readonly limits?: ThrottleLimits;
	/** Longest wait for one Redis command before counting on this node instead. */
	readonly commandTimeoutMs?: number;
	readonly log?: (line: Record<string, unknown>) => void;
}

/**
 * Counters shared by every node in Redis, so N nodes give an attacker one budget, not N
 * (RELIABILITY 26, 29). While Redis is unreachable or slow each node counts in its own memory
 * (RELIABILITY 33): login keeps answering, throttled per node.
 */
export class RedisThrottle implements Throttle {
	private readonly redis: Redis;
	private readonly limits: ThrottleLimits;
	private readonly prefix: string;
	private readonly local: LoginThrottle;
	private readonly log: (line: Record<string, unknown>) => void;
	private down = false;

	constructor(options: RedisThrottleOptions) {
		this.limits = options.limits ?? DEFAULT_THROTTLE;
		this.prefix = options.prefix;
		this.local = new LoginThrottle(this.limits);
		this.log = options.log ?? ((line) => console.error(JSON.stringify(line)));
		this.redis = createRedis(options.url, {
			// No retries, and a bound on every command (queued while connecting, or sent to a stalled server).
			maxRetriesPerRequest: 0,
			commandTimeout: options.commandTimeoutMs ?? 500,
		});
		// ioredis reconnects on its own; without a listener each failed attempt is an "Unhandled error event".
		this.redis.on("error", () => {});
		this.redis.on("ready", () => this.up());
	}

	async check(account: string, ip: string): Promise<number> {
		const ms = await this.run("check", account, ip);
		return ms === undefined ? this.local.checkNow(account, ip) : ms > 0 ? seconds(ms) : 0;
	}

	async peek(account: string, ip: string): Promise<number> {
		const ms = await this.run("peek", account, ip);
		return ms === undefined ? this.local.peekNow(account, ip) : ms > 0 ? seconds(ms) : 0;
	}

	async fail(account: string, ip: string): Promise<void> {
		if ((await this.run("fail", account, ip)) === undefined) this.local.failNow(account, ip);
	}

	async succeed(account: string, ip: string): Promise<void> {
		this.local.succeedNow(account, ip);
		if (this.skip()) return;
		try {
			await this.redis.del(this.prefix + accountKey(account, ip));
			this.up();
		} catch (e) {
			this.lost(e);
		}
	}

	async close(): Promise<void> {
		this.redis.disconnect();
	}

	/** Milliseconds to wait from Redis, or undefined when Redis did not answer in time. */
	private async run(mode: string, account: string, ip: string): Promise<number | undefined> {
		if (this.skip()) return undefined;
		try {
			const ms = await this.redis.eval(
				SCRIPT,
				2,
				this.prefix + accountKey(account, ip),
				this.prefix + ipKey(ip),
				mode,
				finite(this.limits.perAccount),
				finite(this.limits.perIp),
				String(this.limits.windowMs),
			);
			this.up();
			return Number(ms);
		} catch (e) {
			this.lost(e);
			return undefined;
		}
	}

	/** Known down and not reconnected: count here at once instead of waiting for a timeout per request. */
	private skip(): boolean {
		return this.down && this.redis.status !== "ready";
	}

	private up(): void {
		if (!this.down) return;
		this.down = false;
		this.log({ level: "info", msg: "redis back; throttles shared again", prefix: this.prefix });
	}

	private lost(e: unknown): void {
		if (this.down) return;
		this.down = true;
		this.log({
			level: "error",
			msg: "redis unavailable; throttles count on this node",
			prefix: this.prefix,
			err: String(e),
		});
	}
}

/** Redis-backed counters when REDIS_URL is set, else this node's memory. */
export function createThrottle(
	name: string,
	limits: ThrottleLimits,
	redis: { url: string | undefined; prefix: string },
): Throttle & { close?(): Promise<void> } {
	if (!redis.url) return new LoginThrottle(limits);
	return new RedisThrottle({ url: redis.url, prefix: `${redis.prefix}:throttle:${name}:`, limits });
}
