import { statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSession, registerAccount, useAccountInPage } from "./support/accounts.ts";
import { launchChromium } from "./support/chromium.ts";
import { buildEditor, REPO_ROOT } from "./support/editorBuild.ts";
import { type RunningServer, startSyncServer } from "./support/syncServer.ts";

const PHONE = { width: 390, height: 844 };

let server: RunningServer;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
	server = await startSyncServer({ editorDist: await buildEditor() });
	browser = await launchChromium();
	context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
});

afterAll(async () => {
	await context?.close();
	await browser?.close();
	await server?.stop();
});

/** Scroll `target` into view and check it lies within the phone's width. */
async function reachable(page: Page, target: Locator): Promise<void> {
	await target.scrollIntoViewIfNeeded();
	const box = await target.boundingBox();
	expect(box).not.toBeNull();
	expect(box?.x ?? -1).toBeGreaterThanOrEqual(0);
	expect((box?.x ?? 0) + (box?.width ?? Number.POSITIVE_INFINITY)).toBeLessThanOrEqual(PHONE.width);
	expect(await target.isVisible()).toBe(true);
	expect(await page.evaluate(() => window.scrollX)).toBe(0);
}

describe("the session page on a phone (390×844)", () => {
	it("fits the width, takes touch input in the editor, and reaches every panel by scrolling", async () => {
		const account = await registerAccount(server.url, "phone");
		const code = Array.from(
			{ length: 30 },
			(_, i) => `print("line ${i + 1} of a program that is rather wide for a phone screen")`,
		).join("\n");
		const sessionId = await createSession(server.url, account.token, { title: "On the bus", language: "python", code });
		const page = await context.newPage();
		await useAccountInPage(page, server.url, account);
		await page.goto(`${server.url}/s/${sessionId}`);
		await expect.poll(() => page.locator(".badge.connection").textContent(), { timeout: 30_000 }).toBe("Live");

		const overflow = () =>
			page.evaluate(() => (document.scrollingElement?.scrollWidth ?? Number.POSITIVE_INFINITY) - window.innerWidth);
		expect(await overflow()).toBeLessThanOrEqual(0);

		// A tap focuses CodeMirror and the keyboard types there: nothing on top swallows touches.
		const editor = page.locator(".cm-content");
		await reachable(page, page.locator(".cm-editor"));
		await page.locator(".cm-line").first().tap();
		await expect.poll(() => page.evaluate(() => document.activeElement?.classList.contains("cm-content"))).toBe(true);
		await page.keyboard.press("Control+Home");
		await page.keyboard.type("# tapped\n");
		await expect.poll(() => editor.textContent()).toContain("# tapped");

		// Every control of the page (Run, output, tests, call, share) lies within the width.
		const slots = ["run", "tests", "call"].map((slot) => page.locator(`[data-slot="${slot}"]`));
		for (const slot of slots) {
			if (await slot.isVisible()) await reachable(page, slot);
		}
		const controls = page.locator("header button, header select, header a, main button, section button");
		for (const control of await controls.all()) {
			if (await control.isVisible()) await reachable(page, control);
		}
		const run = page.getByRole("button", { name: "Run", exact: true });
		// The Run panel is another engineer's; once it exists it must be reachable too.
		for (const button of await run.all()) await reachable(page, button);
		expect(await overflow()).toBeLessThanOrEqual(0);

		await expect.poll(() => page.locator(".badge.sync").textContent(), { timeout: 30_000 }).toBe("Saved");
		await page.evaluate(() => window.scrollTo(0, 0));
		const target = process.env.UPDATE_SCREENSHOT
			? path.join(REPO_ROOT, "docs/mobile.png")
			: path.join(os.tmpdir(), "tandem-mobile-screenshot.png");
		await page.screenshot({ path: target, fullPage: true });
		expect(statSync(target).size).toBeGreaterThan(0);
	});
});
