import { describe, expect, it } from "vitest";
import { TokenBucket } from "./TokenBucket.ts";

describe("TokenBucket", () => {
	it("allows a burst of its capacity, then refuses until it refills", () => {
		let now = 0;
		const bucket = new TokenBucket(3, 2, () => now);
		expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
		now += 499;
		expect(bucket.take()).toBe(false);
		now += 1;
		expect(bucket.take()).toBe(true);
	});

	it("never holds more than its capacity however long it idles", () => {
		let now = 0;
		const bucket = new TokenBucket(2, 10, () => now);
		now += 60_000;
		expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
	});
});
