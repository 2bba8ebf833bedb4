import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { loadConfig } from "../src/config.ts";
import { api, type RunningServer, startTestServer, TEST_DATABASE_URL } from "./support/testServer.ts";

// RELIABILITY 51: what a browser is told. A tiny "built editor" with an inline script stands in for apps/editor/dist.
const INLINE_SCRIPT = "window.__inlineRan = true";
let dist: string;
let s: RunningServer;
/** Not behind a proxy, and named: ALLOWED_HOSTS=tandem.example.org,127.0.0.1. */
let named: RunningServer;

// The second server keeps its tables in a Postgres schema of its own: quicker to start than a second PGlite.
const schema = `tandem_${"hdr"}_${Math.random().toString(36).slice(2, 10)}`;

beforeAll(async () => {
	dist = mkdtempSync(path.join(os.tmpdir(), "tandem-dist-"));
	mkdirSync(path.join(dist, "assets"));
	writeFileSync(
		path.join(dist, "index.html"),
		`<!doctype html><html><head><script>${INLINE_SCRIPT}</script><script type="module" src="/assets/app.js"></script></head><body></body></html>`,
	);
	writeFileSync(path.join(dist, "assets", "app.js"), "export {};\n");
	[s, named] = await Promise.all([
		startTestServer({ EDITOR_DIST: dist, TRUST_PROXY: "127.0.0.1" }),
		startTestServer({
			ALLOWED_HOSTS: "tandem.example.org,127.0.0.1",
			DATABASE_URL: TEST_DATABASE_URL,
			DATABASE_SCHEMA: schema,
		}),
	]);
}, 300_000);
afterAll(async () => {
	await Promise.all([s?.close(), named?.close()]);
	const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
	await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
	await admin.end();
	rmSync(dist, { recursive: true, force: true });
});

/** One request with a Host header of our choosing (fetch does not let a caller set Host). */
function requestWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
	return new Promise((resolve, reject) => {
		const req = http.request(url, { headers: { host } }, (res) => {
			let body = "";
			res.on("data", (c: Buffer) => {
				body += c.toString();
			});
			res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
		});
		req.on("error", reject);
		req.end();
	});
}

/** Whether a WebSocket upgrade with this Host opens (true) or is refused (the HTTP status). */
function upgradeWithHost(wsUrl: string, host: string): Promise<true | number> {
	return new Promise((resolve) => {
		const ws = new WebSocket(wsUrl, { headers: { host } });
		ws.on("open", () => {
			ws.close();
			resolve(true);
		});
		ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
		ws.on("error", () => {});
	});
}

describe("security headers (RELIABILITY 51)", () => {
	it("RELIABILITY 51: the app and the API carry a CSP that denies framing, nosniff, X-Frame-Options and Referrer-Policy", async () => {
		for (const pathname of ["/", "/login", "/assets/app.js", "/livez", "/no-such-api"]) {
			const res = await fetch(s.url + pathname, { headers: { accept: "text/html" } });
			const csp = res.headers.get("content-security-policy") ?? "";
			expect(csp, pathname).toContain("default-src 'self'");
			expect(csp).toContain("frame-ancestors 'none'");
			expect(csp).toContain("object-src 'none'");
			expect(csp).toMatch(/script-src 'self'( |;)/);
			expect(csp).not.toContain("unsafe-eval");
			expect(csp).not.toContain("upgrade-insecure-requests");
			expect(res.headers.get("x-content-type-options")).toBe("nosniff");
			expect(res.headers.get("x-frame-options")).toBe("DENY");
			expect(res.headers.get("referrer-policy")).toBe("no-referrer");
		}
	});

	it("RELIABILITY 51: the built page's own inline script is allowed by its hash, and no other inline script is", async () => {
		const res = await fetch(`${s.url}/`);
		const csp = res.headers.get("content-security-policy") ?? "";
		const hash = createHash("sha256").update(INLINE_SCRIPT).digest("base64");
		expect(csp).toContain(`'sha256-${hash}'`);
		expect(csp).not.toContain("'unsafe-inline' 'sha256");
		expect(/script-src ([^;]*)/.exec(csp)?.[1]).not.toContain("unsafe-inline");
	});
});

describe("the sign-in cookie (RELIABILITY 51)", () => {
	const register = (base: string, name: string, headers: Record<string, string>) =>
		api(base, "POST", "/register", {
			body: { username: name, email: `${name}@example.test`, password: `a sensible passphrase for ${name}` },
			headers,
		});

	it("RELIABILITY 51: is Secure when a trusted proxy says the request came over TLS, and not over plain HTTP", async () => {
		const tls = await register(s.url, "overtls", { "x-forwarded-proto": "https", "x-forwarded-for": "192.0.2.7" });
		expect(tls.status).toBe(201);
		expect(tls.headers.get("set-cookie")).toMatch(/tandem_token=.*;\s*Secure/i);
		const plain = await register(s.url, "plainhttp", {});
		expect(plain.status).toBe(201);
		expect(plain.headers.get("set-cookie")).toMatch(/tandem_token=.*HttpOnly/i);
		expect(plain.headers.get("set-cookie")).not.toMatch(/;\s*Secure/i);
	});

	it("RELIABILITY 51: an untrusted client cannot claim TLS", async () => {
		// A request straight from a client (no trusted proxy in front) saying X-Forwarded-Proto: https.
		const res = await api(named.url, "POST", "/register", {
			body: { username: "spoofer", email: "spoofer@example.test", password: "a sensible passphrase for spoofer" },
			headers: { "x-forwarded-proto": "https" },
		});
		expect(res.status).toBe(201);
		expect(res.headers.get("set-cookie")).toMatch(/tandem_token=/);
		expect(res.headers.get("set-cookie")).not.toMatch(/;\s*Secure/i);
	});
});

describe("the Host header (RELIABILITY 51: DNS rebinding)", () => {
	it("RELIABILITY 51: answers loopback names and refuses another name on REST and on the collaboration socket", async () => {
		const port = new URL(s.url).port;
		for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
			expect((await requestWithHost(`${s.url}/me`, host)).status, host).toBe(401);
		}
		const rebound = await requestWithHost(`${s.url}/me`, `attacker.example:${port}`);
		expect(rebound.status).toBe(400);
		expect(JSON.parse(rebound.body).error.message).toMatch(/ALLOWED_HOSTS/);
		expect((await requestWithHost(`${s.url}/`, "attacker.example")).status).toBe(400);
		// Probes reach a node by address whatever its names.
		expect((await requestWithHost(`${s.url}/livez`, "10.1.2.3:8080")).status).toBe(200);

		expect(await upgradeWithHost(s.wsUrl, `attacker.example:${port}`)).toBe(400);
		expect(await upgradeWithHost(s.wsUrl, `localhost:${port}`)).toBe(true);
	});

	it("RELIABILITY 51: ALLOWED_HOSTS names the hosts of a deployment; '*' turns the check off", async () => {
		expect((await requestWithHost(`${named.url}/me`, "tandem.example.org")).status).toBe(401);
		expect((await requestWithHost(`${named.url}/me`, "Tandem.Example.Org.:443")).status).toBe(401);
		expect((await requestWithHost(`${named.url}/me`, "localhost")).status).toBe(400);
		expect(loadConfig({ ALLOWED_HOSTS: "*" }).allowedHosts).toBeNull();
		expect(loadConfig({ HOST: "0.0.0.0" }).allowedHosts).toBeNull();
		expect(() => loadConfig({ ALLOWED_HOSTS: "http://x.example/" })).toThrow(/ALLOWED_HOSTS/);
	});
});
