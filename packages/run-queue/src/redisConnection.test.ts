import { describe, expect, it } from "vitest";
import { RedisUrlError, redisOptionsFromUrl } from "./redisConnection.ts";

describe("redisOptionsFromUrl (issue 13 step 5)", () => {
	it("reads one server's host, port, credentials, database and TLS", () => {
		expect(redisOptionsFromUrl("redis://127.0.0.1:6380/2")).toEqual({ host: "127.0.0.1", port: 6380, db: 2 });
		expect(redisOptionsFromUrl("rediss://u:p%40ss@cache.example:6379")).toEqual({
			host: "cache.example",
			port: 6379,
			username: "u",
			password: "p@ss",
			tls: {},
			db: 0,
		});
	});

	it("reads a Sentinel set, the primary's name, its password and database", () => {
		expect(
			redisOptionsFromUrl("redis-sentinel://:secret@10.0.0.1:26379,10.0.0.2,[::1]:26380/tandem/3?sentinelPassword=s2"),
		).toEqual({
			sentinels: [
				{ host: "10.0.0.1", port: 26379 },
				{ host: "10.0.0.2", port: 26379 },
				{ host: "::1", port: 26380 },
			],
			name: "tandem",
			password: "secret",
			sentinelPassword: "s2",
			db: 3,
		});
	});

	it("refuses what it cannot read with a message in words", () => {
		expect(() => redisOptionsFromUrl("redis-sentinel://h1:26379")).toThrow(RedisUrlError);
		expect(() => redisOptionsFromUrl("redis-sentinel://h1:99999/p")).toThrow(/not host:port/);
		expect(() => redisOptionsFromUrl("memcached://h")).toThrow(/must start with redis:\/\//);
	});
});
