import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";
import { postgresClientOptions } from "./db/database.ts";

describe("loadConfig", () => {
	it("applies the documented defaults and freezes the result", () => {
		const c = loadConfig({});
		expect(c).toMatchObject({
			port: 8080,
			host: "127.0.0.1",
			databaseUrl: undefined,
			redisUrl: undefined,
			persistDebounceMs: 2000,
			persistMaxDebounceMs: 10_000,
			collabTimeoutMs: 45_000,
		});
		expect(c.dataDir.endsWith("/data")).toBe(true);
		expect(c.editorDist.endsWith("apps/editor/dist")).toBe(true);
		expect(Object.isFrozen(c)).toBe(true);
	});

	it("accepts PORT=0 and durations like 12h", () => {
		const c = loadConfig({ PORT: "0", TOKEN_TTL: "12h" });
		expect(c.port).toBe(0);
		expect(c.tokenTtlSeconds).toBe(43_200);
	});

	it("fails with a message naming every bad variable", () => {
		let error: unknown;
		try {
			loadConfig({ PORT: "http", DATABASE_URL: "mysql://x", TOKEN_TTL: "soon" });
		} catch (e: unknown) {
			error = e;
		}
		expect(error).toBeInstanceOf(ConfigError);
		expect((error as Error).message).toMatch(/PORT/);
		expect((error as Error).message).toMatch(/TOKEN_TTL/);
		expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL: must be a postgres:\/\/ URL/);
		expect(() => loadConfig({ PERSIST_DEBOUNCE_MS: "5000", PERSIST_MAX_DEBOUNCE_MS: "100" })).toThrow(
			/PERSIST_MAX_DEBOUNCE_MS/,
		);
		expect(() => loadConfig({ TOKEN_SECRET: "short" })).toThrow(/TOKEN_SECRET/);
	});

	it("names the node from NODE_ID, else by host and process, and refuses a bad NODE_ID or a short METRICS_TOKEN", () => {
		expect(loadConfig({ NODE_ID: "sync-1" }).nodeId).toBe("sync-1");
		expect(loadConfig({}).nodeId).toMatch(new RegExp(`-${process.pid}$`));
		expect(loadConfig({}).metricsToken).toBeUndefined();
		expect(() => loadConfig({ NODE_ID: "two words" })).toThrow(/NODE_ID/);
		expect(() => loadConfig({ METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN: must be at least 16 characters/);
	});

	it("drains after DRAIN_DELAY_MS (default 5 s: the shipped HAProxy's `inter 2s fall 2` plus slack) at DRAIN_SOCKETS_PER_SECOND", () => {
		expect(loadConfig({})).toMatchObject({ drainDelayMs: 5000, drainSocketsPerSecond: 500 });
		expect(loadConfig({ DRAIN_DELAY_MS: "0", DRAIN_SOCKETS_PER_SECOND: "50" })).toMatchObject({
			drainDelayMs: 0,
			drainSocketsPerSecond: 50,
		});
		expect(() => loadConfig({ DRAIN_SOCKETS_PER_SECOND: "0" })).toThrow(/DRAIN_SOCKETS_PER_SECOND/);
	});

	it("pools Postgres per DATABASE_POOL_MODE and DATABASE_POOL_MAX; transaction mode has no named prepared statements", () => {
		const plain = loadConfig({ DATABASE_URL: "postgres://h/db" });
		expect(plain).toMatchObject({ databasePoolMode: "session", databasePoolMax: 10, databaseMigrationUrl: undefined });
		expect(postgresClientOptions({ poolMode: plain.databasePoolMode, poolMax: plain.databasePoolMax })).toMatchObject({
			max: 10,
			prepare: true,
		});
		const pooled = loadConfig({
			DATABASE_URL: "postgres://pgbouncer:6432/db",
			DATABASE_POOL_MODE: "transaction",
			DATABASE_POOL_MAX: "3",
			DATABASE_MIGRATION_URL: "postgres://primary:5432/db",
		});
		expect(pooled).toMatchObject({
			databasePoolMode: "transaction",
			databasePoolMax: 3,
			databaseMigrationUrl: "postgres://primary:5432/db",
		});
		expect(postgresClientOptions({ poolMode: pooled.databasePoolMode, poolMax: pooled.databasePoolMax })).toMatchObject(
			{
				max: 3,
				prepare: false,
			},
		);
		expect(() => loadConfig({ DATABASE_POOL_MODE: "statement" })).toThrow(/DATABASE_POOL_MODE/);
		expect(() => loadConfig({ DATABASE_MIGRATION_URL: "mysql://x" })).toThrow(/DATABASE_MIGRATION_URL/);
		expect(() => loadConfig({ DATABASE_POOL_MODE: "transaction", DATABASE_SCHEMA: "s1" })).toThrow(/search_path/);
	});
});
