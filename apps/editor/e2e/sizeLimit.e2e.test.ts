import net from "node:net";
import { MAX_CODE_CHARS } from "@tandem/crdt-schema";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, createSession, inviteUser, registerAccount, useAccountInPage } from "./support/accounts.ts";
import { launchChromium } from "./support/chromium.ts";
import { buildEditor } from "./support/editorBuild.ts";
import { type RunningServer, startSyncServer } from "./support/syncServer.ts";

/**
 * A TCP relay in front of the sync-server that counts collaboration socket upgrades: what the server
 * accepts as new sockets, so a reconnect loop shows as a growing count.
 */
async function countingRelay(targetPort: number): Promise<{ url: string; upgrades(): number; close(): void }> {
	let upgrades = 0;
	const sockets = new Set<net.Socket>();
	const relay = net.createServer((client) => {
		const upstream = net.connect(targetPort, "127.0.0.1");
		sockets.add(client).add(upstream);
		let first = true;
		client.on("data", (chunk: Buffer) => {
			if (first && /^GET \/collab\b[^\r]*\r\n/.test(chunk.toString("latin1", 0, 256))) {
				if (/\r\nupgrade: websocket\r\n/i.test(chunk.toString("latin1"))) upgrades++;
			}
			first = false;
			upstream.write(chunk);
		});
		upstream.on("data", (chunk) => client.write(chunk));
		const end = () => {
			client.destroy();
			upstream.destroy();
		};
		client.on("close", end).on("error", end);
		upstream.on("close", end).on("error", end);
	});
	await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
	const address = relay.address();
	if (!address || typeof address === "string") throw new Error("relay has no port");
	return {
		url: `http://127.0.0.1:${address.port}`,
		upgrades: () => upgrades,
		close() {
			for (const s of sockets) s.destroy();
			relay.close();
		},
	};
}

let server: RunningServer;
let relay: Awaited<ReturnType<typeof countingRelay>>;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
	const dist = await buildEditor();
	server = await startSyncServer({ editorDist: dist });
	relay = await countingRelay(Number(new URL(server.url).port));
	browser = await launchChromium();
}, 240_000);

afterAll(async () => {
	for (const context of contexts) await context.close().catch(() => {});
	await browser?.close();
	relay?.close();
	await server?.stop();
});

async function newPage(): Promise<Page> {
	const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	contexts.push(context);
	return context.newPage();
}

const code = (page: Page) => page.evaluate(() => document.querySelector(".cm-content")?.textContent ?? "");

async function typeAtEnd(page: Page, text: string): Promise<void> {
	await page.locator(".cm-content").click();
	await page.keyboard.press("Control+End");
	await page.keyboard.type(text);
}

describe("a paste above the document limit (RELIABILITY 39)", () => {
	it("RELIABILITY 39: pasting 4.4 M characters is refused with a message in words, no reconnect loop, and both people keep syncing", async () => {
		const alice = await registerAccount(relay.url, "sizealice");
		const bob = await registerAccount(relay.url, "sizebob");
		const sessionId = await createSession(relay.url, alice.token, { code: "start\n" });
		await inviteUser(relay.url, alice.token, sessionId, bob.username);
		const alicePage = await newPage();
		const bobPage = await newPage();
		await useAccountInPage(alicePage, relay.url, alice);
		await useAccountInPage(bobPage, relay.url, bob);
		for (const page of [alicePage, bobPage]) {
			await page.goto(`${relay.url}/s/${sessionId}`);
			await expect.poll(() => page.locator(".badge.connection").textContent(), { timeout: 30_000 }).toBe("Live");
			await expect.poll(() => code(page), { timeout: 20_000 }).toContain("start");
		}
		const socketsBefore = relay.upgrades();

		// Above the 4 MiB frame cap, as in the issue: a real paste event through CodeMirror's paste handler.
		const pasted = 4_400_000;
		await alicePage.locator(".cm-content").click();
		await alicePage.evaluate((length) => {
			const data = new DataTransfer();
			data.setData("text/plain", "p".repeat(length));
			document
				.querySelector(".cm-content")
				?.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
		}, pasted);
		const notice = alicePage.locator('[data-notice="size-limit"]');
		await expect.poll(() => notice.isVisible(), { timeout: 20_000 }).toBe(true);
		const words = (await notice.textContent()) ?? "";
		expect(words).toContain(MAX_CODE_CHARS.toLocaleString("en"));
		expect(words).toContain("not made");
		expect((await code(alicePage)).length).toBeLessThan(1000);

		// The rest of the session keeps syncing, both ways.
		await typeAtEnd(alicePage, "from alice");
		await expect.poll(() => code(bobPage), { timeout: 20_000 }).toContain("from alice");
		await typeAtEnd(bobPage, "from bob");
		await expect.poll(() => code(alicePage), { timeout: 20_000 }).toContain("from bob");
		await expect.poll(() => alicePage.locator(".badge.sync").textContent(), { timeout: 30_000 }).toBe("Saved");
		expect(await alicePage.locator(".badge.connection").textContent()).toBe("Live");
		const stored = await api<{ code: string }>(relay.url, "GET", `/session/${sessionId}`, undefined, alice.token);
		expect(stored.code).toContain("from bob");
		expect(stored.code.length).toBeLessThan(1000);
		// No socket was opened since the paste: no reconnect, let alone a loop.
		expect(relay.upgrades()).toBe(socketsBefore);
	}, 240_000);
});
