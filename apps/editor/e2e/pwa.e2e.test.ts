import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { precompressFolder } from "../scripts/precompress.ts";
import { registerAccount, useAccountInPage } from "./support/accounts.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "./support/chromium.ts";
import { buildEditor } from "./support/editorBuild.ts";
import { type RunningServer, startSyncServer } from "./support/syncServer.ts";

let server: RunningServer;
let context: BrowserContext;
// The server serves a private copy of the build so this file can "deploy" a new version.
let dist: string;
let profileDir: string;

interface Manifest {
	name: string;
	short_name: string;
	start_url: string;
	scope: string;
	display: string;
	theme_color: string;
	background_color: string;
	icons: { src: string; sizes: string; type: string; purpose?: string }[];
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
	expect(bytes.subarray(1, 4).toString("ascii")).toBe("PNG");
	return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

async function shellCached(page: Page): Promise<void> {
	await page.evaluate(async () => {
		await navigator.serviceWorker.ready;
	});
}

beforeAll(async () => {
	dist = mkdtempSync(path.join(os.tmpdir(), "tandem-pwa-dist-"));
	cpSync(await buildEditor(), dist, { recursive: true });
	server = await startSyncServer({ editorDist: dist });
	profileDir = mkdtempSync(path.join(os.tmpdir(), "tandem-pwa-profile-"));
	// Installability is judged only in a persistent (non-incognito) profile.
	context = await chromium.launchPersistentContext(profileDir, {
		executablePath: CHROMIUM_PATH,
		headless: true,
		args: [...CHROMIUM_ARGS],
		viewport: { width: 1200, height: 800 },
	});
	// A production build (Brotli at quality 11 included) takes minutes on a loaded machine.
}, 600_000);

afterAll(async () => {
	await context?.close();
	await server?.stop();
	rmSync(profileDir, { recursive: true, force: true });
	rmSync(dist, { recursive: true, force: true });
});

describe("installable app with an offline shell", () => {
	let page: Page;

	it("serves a manifest with names, start_url, scope, standalone display, colours and PNG icons", async () => {
		const manifest = (await (await fetch(`${server.url}/manifest.webmanifest`)).json()) as Manifest;
		expect(manifest).toMatchObject({
			name: expect.stringContaining("Tandem"),
			short_name: "Tandem",
			start_url: "/",
			scope: "/",
			display: "standalone",
			theme_color: expect.stringMatching(/^#[0-9a-f]{6}$/),
			background_color: expect.stringMatching(/^#[0-9a-f]{6}$/),
		});
		const want = [
			{ sizes: "192x192", purpose: "any" },
			{ sizes: "512x512", purpose: "any" },
			{ sizes: "512x512", purpose: "maskable" },
		];
		for (const { sizes, purpose } of want) {
			const icon = manifest.icons.find((i) => i.sizes === sizes && (i.purpose ?? "any") === purpose);
			expect(icon?.type).toBe("image/png");
			const response = await fetch(`${server.url}${icon?.src}`);
			expect(response.headers.get("content-type")).toMatch(/image\/png/);
			const [width, height] = sizes.split("x").map(Number);
			expect(pngSize(Buffer.from(await response.arrayBuffer()))).toEqual({ width, height });
		}
	});

	it("passes Chromium's installability check", async () => {
		page = context.pages()[0] ?? (await context.newPage());
		await page.goto(`${server.url}/login`);
		await shellCached(page);
		const cdp = await context.newCDPSession(page);
		const { installabilityErrors } = (await cdp.send("Page.getInstallabilityErrors")) as {
			installabilityErrors: { errorId: string }[];
		};
		expect(installabilityErrors).toEqual([]);
		await cdp.detach();
	});

	it("opens app routes offline but never answers API paths or /collab from the cache", async () => {
		const account = await registerAccount(server.url, "pwa");
		await useAccountInPage(page, server.url, account);
		await page.goto(`${server.url}/`);
		await expect.poll(() => page.getByRole("button", { name: "New session" }).count()).toBe(1);
		await context.setOffline(true);
		try {
			for (const route of ["/", "/sessions", "/login", "/s/AAAAAAAAAAAAAAAAAAAAAA"]) {
				const response = await page.goto(`${server.url}${route}`);
				expect(response?.fromServiceWorker()).toBe(true);
				await expect.poll(() => page.locator("#app *").count()).toBeGreaterThan(0);
			}
			const cached = await page.evaluate(async () => {
				const urls: string[] = [];
				for (const name of await caches.keys()) {
					for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
				}
				return urls;
			});
			// The shell, including lazily loaded chunks (the session page and language packs).
			expect(cached).toContain("/index.html");
			expect(cached.some((u) => /^\/assets\/sessionPage-.*\.js$/.test(u))).toBe(true);
			const built = readdirSync(path.join(dist, "assets")).filter((f) => f.endsWith(".js"));
			expect(built.length).toBeGreaterThan(10);
			expect(cached.filter((u) => u.endsWith(".js")).sort()).toEqual(built.map((f) => `/assets/${f}`).sort());
			expect(cached.filter((u) => /^\/(me|sessions|session|collab|languages)(\/|$)/.test(u))).toEqual([]);
			for (const route of ["/me", "/livez", "/metrics", "/session/AAAAAAAAAAAAAAAAAAAAAA", "/collab/x", "/languages"]) {
				const probe = await context.newPage();
				const error = await probe.goto(`${server.url}${route}`, { timeout: 10_000 }).then(
					() => null,
					(e: unknown) => String(e),
				);
				await probe.close();
				expect(error).toMatch(/ERR_INTERNET_DISCONNECTED/);
			}
		} finally {
			await context.setOffline(false);
		}
	});

	it("offers to reload when a new version is deployed, and Reload switches to it", async () => {
		await page.goto(`${server.url}/`);
		await shellCached(page);
		const before = await page.evaluate(
			async () => (await navigator.serviceWorker.getRegistration())?.active?.scriptURL,
		);
		expect(before).toBe(`${server.url}/sw.js`);
		expect(await page.getByText("A new version is available").count()).toBe(0);

		// A new deploy: the worker script changes byte-for-byte, and its compressed copies with it
		// (a deploy ships a whole build: the server sends sw.js.br to a browser that accepts br).
		const swPath = path.join(dist, "sw.js");
		const original = readFileSync(swPath, "utf8");
		appendFileSync(swPath, "\n// deploy 2\n");
		await precompressFolder(dist);
		await page.evaluate(async () => {
			await (await navigator.serviceWorker.getRegistration())?.update();
		});
		const bar = page.locator(".update-bar");
		await expect.poll(() => bar.textContent(), { timeout: 30_000 }).toMatch(/A new version is available — Reload/);
		expect(await page.evaluate(async () => Boolean((await navigator.serviceWorker.getRegistration())?.waiting))).toBe(
			true,
		);

		await Promise.all([page.waitForEvent("load"), bar.getByRole("button", { name: "Reload" }).click()]);
		await expect
			.poll(() => page.evaluate(async () => Boolean((await navigator.serviceWorker.getRegistration())?.waiting)))
			.toBe(false);
		const activeScript = await page.evaluate(async () => {
			const registration = await navigator.serviceWorker.getRegistration();
			const response = await fetch(registration?.active?.scriptURL ?? "", { cache: "no-store" });
			return response.text();
		});
		expect(activeScript).toBe(`${original}\n// deploy 2\n`);
		expect(await page.locator(".update-bar").count()).toBe(0);
	});
});
