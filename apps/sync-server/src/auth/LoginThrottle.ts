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

interface Window {
	count: number;
	resetAt: number;
}

/** Fixed-window counters in memory (per node). */
export class LoginThrottle {
	private readonly windows = new Map<string, Window>();
	private readonly limits: ThrottleLimits;
	private readonly now: () => number;

	constructor(limits: ThrottleLimits = DEFAULT_THROTTLE, now: () => number = Date.now) {
		this.limits = limits;
		this.now = now;
	}

	/** Seconds to wait before trying again, or 0 when the attempt may proceed. Counts the IP attempt. */
	check(account: string, ip: string): number {
		this.sweep();
		const accountWait = this.waitFor(`a:${account.toLowerCase()}|${ip}`, this.limits.perAccount);
		const ipWait = this.bump(`i:${ip}`, this.limits.perIp);
		return Math.max(accountWait, ipWait);
	}

	/** Seconds to wait for this account+IP (failures only), without counting an attempt. */
	peek(account: string, ip: string): number {
		return this.waitFor(`a:${account.toLowerCase()}|${ip}`, this.limits.perAccount);
	}

	/** Record a failed attempt for this account from this IP. */
	fail(account: string, ip: string): void {
		this.bump(`a:${account.toLowerCase()}|${ip}`, Number.POSITIVE_INFINITY);
	}

	/** A success clears the account's failures. */
	succeed(account: string, ip: string): void {
		this.windows.delete(`a:${account.toLowerCase()}|${ip}`);
	}

	private waitFor(key: string, limit: number): number {
		const w = this.windows.get(key);
		if (!w || w.resetAt <= this.now() || w.count < limit) return 0;
		return Math.max(1, Math.ceil((w.resetAt - this.now()) / 1000));
	}

	private bump(key: string, limit: number): number {
		const now = this.now();
		let w = this.windows.get(key);
		if (!w || w.resetAt <= now) {
			w = { count: 0, resetAt: now + this.limits.windowMs };
			this.windows.set(key, w);
		}
		if (w.count >= limit) return Math.max(1, Math.ceil((w.resetAt - now) / 1000));
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
