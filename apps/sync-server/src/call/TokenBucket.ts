/**
 * A token bucket: `capacity` tokens, refilled at `refillPerSecond`. Each
 * message takes one token; an empty bucket means the message is over the rate.
 */
export class TokenBucket {
	private tokens: number;
	private last: number;
	private readonly capacity: number;
	private readonly refillPerSecond: number;
	private readonly now: () => number;

	constructor(capacity: number, refillPerSecond: number, now: () => number = Date.now) {
		this.capacity = capacity;
		this.refillPerSecond = refillPerSecond;
		this.now = now;
		this.tokens = capacity;
		this.last = now();
	}

	/** Takes one token; false when the bucket is empty. */
	take(): boolean {
		const t = this.now();
		this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.refillPerSecond);
		this.last = t;
		if (this.tokens < 1) return false;
		this.tokens -= 1;
		return true;
	}
}
