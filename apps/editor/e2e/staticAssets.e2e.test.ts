import { existsSync, readdirSync, readFileSync } from "node:fs";
import { type IncomingHttpHeaders, request } from "node:http";
import path from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEditor } from "./support/editorBuild.ts";
import { type RunningServer, startSyncServer } from "./support/syncServer.ts";

// Issue 17: static files served as a CDN expects. Hashed files are compressed and kept for a
// year; the page, the manifest and the service worker are compressed and revalidated every time.
const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

let server: RunningServer;
let dist: string;

interface RawResponse {
	readonly status: number;
	readonly headers: IncomingHttpHeaders;
	/** The body exactly as it travelled (still compressed). */
	readonly body: Buffer;
}

/** A GET with node:http, which (unlike fetch) leaves the body as sent: its size is the bytes on the wire. */
function get(pathname: string, headers: Record<string, string> = {}): Promise<RawResponse> {
	return new Promise((resolve, reject) => {
		const req = request(`${server.url}${pathname}`, { headers }, (res) => {
			const chunks: Buffer[] = [];
			res.on("data", (c: Buffer) => chunks.push(c));
			res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
			res.on("error", reject);
		});
		req.on("error", reject);
		req.end();
	});
}

function decoded(res: RawResponse): Buffer {
	const encoding = res.headers["content-encoding"];
	if (encoding === "br") return brotliDecompressSync(res.body);
	if (encoding === "gzip") return gunzipSync(res.body);
	expect(encoding).toBeUndefined();
	return res.body;
}

function varies(res: RawResponse): string[] {
	return String(res.headers.vary ?? "")
		.split(",")
		.map((v) => v.trim().toLowerCase());
}

/** The build's main entry chunk, its largest script and its stylesheet (all hashed, in assets/). */
function hashedFiles(): { entry: string; largest: string; css: string } {
	const html = readFileSync(path.join(dist, "index.html"), "utf8");
	const entry = /<script type="module" crossorigin src="\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
	const css = /<link rel="stylesheet" crossorigin href="\/(assets\/[^"]+\.css)"/.exec(html)?.[1];
	const scripts = readdirSync(path.join(dist, "assets")).filter((f) => f.endsWith(".js"));
	const largest = scripts
		.map((f) => `assets/${f}`)
		.sort((a, b) => readFileSync(path.join(dist, b)).length - readFileSync(path.join(dist, a)).length)[0];
	if (!entry || !css || !largest) throw new Error("index.html names no entry script or stylesheet");
	return { entry, largest, css };
}

beforeAll(async () => {
	dist = await buildEditor();
	server = await startSyncServer({ editorDist: dist });
	// A production build (Brotli at quality 11 included) takes minutes on a loaded machine.
}, 600_000);

afterAll(async () => {
	await server?.stop();
});

describe("static files with accept-encoding: br, gzip", () => {
	it("sends hashed scripts and styles as Brotli, kept for a year, varying on accept-encoding", async () => {
		const { entry, largest, css } = hashedFiles();
		for (const file of [entry, largest, css]) {
			const res = await get(`/${file}`, { "accept-encoding": "br, gzip" });
			expect(res.status, file).toBe(200);
			expect(res.headers["content-encoding"], file).toBe("br");
			expect(res.headers["cache-control"], file).toBe(IMMUTABLE);
			expect(varies(res), file).toContain("accept-encoding");
			expect(res.headers["content-type"], file).toMatch(file.endsWith(".css") ? /^text\/css/ : /javascript/);
			const original = readFileSync(path.join(dist, file));
			expect(decoded(res).equals(original), file).toBe(true);
			// Compression pays: the largest chunk travels at well under half its size.
			if (file === largest) expect(res.body.length).toBeLessThan(original.length / 2);
		}
	});

	it("sends gzip to a client that accepts only gzip, and the file itself to one that accepts neither", async () => {
		const { entry } = hashedFiles();
		const original = readFileSync(path.join(dist, entry));
		const gz = await get(`/${entry}`, { "accept-encoding": "gzip" });
		expect(gz.headers["content-encoding"]).toBe("gzip");
		expect(decoded(gz).equals(original)).toBe(true);
		const plain = await get(`/${entry}`, { "accept-encoding": "identity" });
		expect(plain.headers["content-encoding"]).toBeUndefined();
		expect(plain.body.equals(original)).toBe(true);
		// The same URL answers differently by accept-encoding: a shared cache must know.
		for (const res of [gz, plain]) {
			expect(varies(res)).toContain("accept-encoding");
			expect(res.headers["cache-control"]).toBe(IMMUTABLE);
		}
	});

	it("sends the page at / and at an app route compressed and revalidated every time", async () => {
		const original = readFileSync(path.join(dist, "index.html"));
		for (const [pathname, headers] of [
			["/", {}],
			["/index.html", {}],
			["/s/abcdefghij", { accept: "text/html" }],
			["/login", { accept: "text/html" }],
		] as const) {
			const res = await get(pathname, { "accept-encoding": "br, gzip", ...headers });
			expect(res.status, pathname).toBe(200);
			expect(res.headers["content-type"], pathname).toMatch(/^text\/html/);
			expect(res.headers["content-encoding"], pathname).toBe("br");
			expect(res.headers["cache-control"], pathname).toBe(REVALIDATE);
			expect(varies(res), pathname).toContain("accept-encoding");
			expect(decoded(res).equals(original), pathname).toBe(true);
		}
	});

	it("sends the service worker, its workbox runtime and the manifest revalidated every time", async () => {
		const workbox = readdirSync(dist).find((f) => /^workbox-.*\.js$/.test(f));
		expect(workbox).toBeDefined();
		for (const file of ["sw.js", String(workbox), "manifest.webmanifest", "registerSW.js"]) {
			if (!existsSync(path.join(dist, file))) continue;
			const res = await get(`/${file}`, { "accept-encoding": "br, gzip" });
			expect(res.status, file).toBe(200);
			expect(res.headers["cache-control"], file).toBe(REVALIDATE);
			expect(varies(res), file).toContain("accept-encoding");
			// Each travels compressed when the build holds a compressed copy (files under 256 bytes have none).
			const expected = existsSync(path.join(dist, `${file}.br`)) ? "br" : undefined;
			expect(res.headers["content-encoding"], file).toBe(expected);
			expect(decoded(res).equals(readFileSync(path.join(dist, file))), file).toBe(true);
		}
		const sw = await get("/sw.js", { "accept-encoding": "br, gzip" });
		expect(sw.headers["content-encoding"]).toBe("br");
		expect(sw.headers["content-type"]).toMatch(/javascript/);
	});

	it("sends the unhashed icons uncompressed (PNG is compressed already) and revalidated", async () => {
		for (const icon of ["/icon-192.png", "/icon-512.png", "/apple-touch-icon.png"]) {
			const res = await get(icon, { "accept-encoding": "br, gzip" });
			expect(res.status, icon).toBe(200);
			expect(res.headers["content-type"], icon).toBe("image/png");
			expect(res.headers["content-encoding"], icon).toBeUndefined();
			expect(res.headers["cache-control"], icon).toBe(REVALIDATE);
			expect(res.body.equals(readFileSync(path.join(dist, icon))), icon).toBe(true);
		}
	});

	it("answers a revalidation of the page with 304 when nothing changed", async () => {
		const first = await get("/", { "accept-encoding": "br, gzip" });
		const etag = first.headers.etag;
		expect(etag).toBeDefined();
		const again = await get("/", { "accept-encoding": "br, gzip", "if-none-match": String(etag) });
		expect(again.status).toBe(304);
		expect(again.body.length).toBe(0);
	});

	it("never marks a missing hashed file immutable (a 404 must not be kept for a year)", async () => {
		const res = await get("/assets/no-such-chunk-abc123.js", { "accept-encoding": "br, gzip" });
		expect(res.status).toBe(404);
		expect(res.headers["cache-control"] ?? "").not.toMatch(/immutable|max-age=31536000/);
	});
});
