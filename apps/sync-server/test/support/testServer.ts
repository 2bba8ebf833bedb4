import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { type Config, loadConfig } from "../../src/config.ts";
import { buildServer, type ServerDeps, type TandemServer } from "../../src/server.ts";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** A free TCP port on loopback (closed again at once: a child process binds it next). */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.once("error", reject);
		srv.listen(0, "127.0.0.1", () => {
			const address = srv.address();
			srv.close(() => (address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port"))));
		});
	});
}

/** The URL of database `name` on the test Postgres server. */
export function databaseUrl(name: string): string {
	const u = new URL(TEST_DATABASE_URL);
	u.pathname = `/${name}`;
	return u.toString();
}

export const TEST_TOKEN_SECRET = "test-secret-0123456789abcdef-0123456789";

export interface RunningServer {
	readonly server: TandemServer;
	readonly url: string;
	readonly wsUrl: string;
	readonly config: Config;
	close(): Promise<void>;
}

/** Build and listen on port 0 with file-backed PGlite in a fresh temp folder (unless env overrides). */
export async function startTestServer(env: Record<string, string> = {}, deps: ServerDeps = {}): Promise<RunningServer> {
	const dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-sync-"));
	const config = loadConfig({
		PORT: "0",
		DATA_DIR: dataDir,
		LOG_LEVEL: "silent",
		TOKEN_SECRET: TEST_TOKEN_SECRET,
		// No balancer in front of a test server: close sockets as soon as a drain starts.
		DRAIN_DELAY_MS: "0",
		PERSIST_DEBOUNCE_MS: "100",
		PERSIST_MAX_DEBOUNCE_MS: "500",
		EDITOR_DIST: path.join(dataDir, "no-editor"),
		...env,
	});
	const server = await buildServer(config, { accessSweepMs: 300, ...deps });
	await server.app.listen({ port: 0, host: "127.0.0.1" });
	const address = server.app.server.address();
	if (!address || typeof address === "string") throw new Error("no address");
	const url = `http://127.0.0.1:${address.port}`;
	return {
		server,
		url,
		wsUrl: `ws://127.0.0.1:${address.port}/collab`,
		config,
		async close() {
			await server.close();
			rmSync(dataDir, { recursive: true, force: true });
		},
	};
}

export interface ApiResponse {
	status: number;
	headers: Headers;
	body: any;
	text: string;
}

/** One JSON request; `body` may be a string to send raw bytes. */
export async function api(
	base: string,
	method: string,
	pathname: string,
	options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
	const headers: Record<string, string> = { ...(options.headers ?? {}) };
	if (options.token) headers.authorization = `Bearer ${options.token}`;
	let body: string | undefined;
	if (options.body !== undefined) {
		headers["content-type"] ??= "application/json";
		body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
	}
	const res = await fetch(base + pathname, { method, headers, body });
	const text = await res.text();
	let parsed: unknown = null;
	try {
		parsed = text ? JSON.parse(text) : null;
	} catch {
		parsed = null;
	}
	return { status: res.status, headers: res.headers, body: parsed, text };
}

let counter = 0;
/** Register a fresh user; returns its token and public user. */
export async function registerUser(
	base: string,
	prefix = "user",
): Promise<{ token: string; user: { id: string; username: string; email: string }; password: string }> {
	counter++;
	const username = `${prefix}${counter}${Math.random().toString(36).slice(2, 8)}`;
	const password = `pass-phrase-${username}`;
	const res = await api(base, "POST", "/register", { body: { username, email: `${username}@example.test`, password } });
	if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
	return { token: res.body.token, user: res.body.user, password };
}

export async function createSession(base: string, token: string, body: Record<string, unknown> = {}): Promise<any> {
	const res = await api(base, "POST", "/create-session", { token, body });
	if (res.status !== 201) throw new Error(`create-session failed: ${res.status} ${res.text}`);
	return res.body;
}

/** Poll until `check` returns true (no timing assertion: the test's own timeout bounds it). */
export async function eventually(check: () => boolean | Promise<boolean>, intervalMs = 25): Promise<void> {
	for (;;) {
		if (await check()) return;
		await new Promise((r) => setTimeout(r, intervalMs));
	}
}
