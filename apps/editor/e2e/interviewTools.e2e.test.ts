import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, inviteUser, registerAccount, useAccountInPage } from "./support/accounts.ts";
import { launchChromium } from "./support/chromium.ts";
import { buildEditor } from "./support/editorBuild.ts";
import { type RunningServer, startSyncServer } from "./support/syncServer.ts";

let server: RunningServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
	const dist = await buildEditor();
	server = await startSyncServer({ editorDist: dist });
	browser = await launchChromium();
}, 300_000);

afterAll(async () => {
	for (const context of contexts) await context.close().catch(() => {});
	await browser?.close();
	await server?.stop();
});

async function newPage(): Promise<Page> {
	const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	contexts.push(context);
	return context.newPage();
}

const DESCRIPTION = [
	"# Two sum",
	"Return the **sum**.",
	'<img src="x" onerror="window.__pwned = true">',
	"[bad link](javascript:window.__pwned=true)",
].join("\n\n");

describe("interviewer tools in the browser (decision 058)", () => {
	it("the owner's Notes tab autosaves Markdown and shares it live; an editor sees the description but no notes", async () => {
		const owner = await registerAccount(server.url, "notesowner");
		const editor = await registerAccount(server.url, "noteseditor");
		const question = await api<{ id: string }>(
			server.url,
			"POST",
			"/questions",
			{ title: "Two sum", language: "python", code: "print(1)\n", description: DESCRIPTION, tests: [] },
			owner.token,
		);
		const session = await api<{ id: string }>(
			server.url,
			"POST",
			"/create-session",
			{ questionId: question.id },
			owner.token,
		);
		await inviteUser(server.url, owner.token, session.id, editor.username);

		const ownerPage = await newPage();
		const ownerSecond = await newPage();
		const editorPage = await newPage();
		for (const [page, account] of [
			[ownerPage, owner],
			[ownerSecond, owner],
			[editorPage, editor],
		] as const) {
			await useAccountInPage(page, server.url, account);
			await page.goto(`${server.url}/s/${session.id}`);
			// Everyone sees the description, rendered and sanitized.
			const heading = page.locator('[data-slot="description"] h1');
			await expect.poll(() => heading.textContent(), { timeout: 60_000 }).toBe("Two sum");
			expect(await page.locator('[data-slot="description"] strong').textContent()).toBe("sum");
			expect(await page.locator('[data-slot="description"] [onerror]').count()).toBe(0);
			expect(await page.locator('[data-slot="description"] a[href^="javascript"]').count()).toBe(0);
			expect(await page.evaluate(() => (window as { __pwned?: boolean }).__pwned)).toBeUndefined();
		}

		const notes = ownerPage.locator('[data-slot="notes"] textarea');
		await expect.poll(() => notes.isEnabled(), { timeout: 30_000 }).toBe(true);
		await expect
			.poll(() => ownerSecond.locator('[data-slot="notes"] textarea').isEnabled(), { timeout: 30_000 })
			.toBe(true);
		await notes.fill("## Plan\n- ask about NOTE-SECRET-e2e");
		await expect
			.poll(() => ownerPage.locator('[data-testid="notes-status"]').textContent(), { timeout: 30_000 })
			.toBe("Saved");
		expect(await ownerPage.locator('[data-testid="notes-preview"] h2').textContent()).toBe("Plan");
		const stored = await api<{ text: string }>(
			server.url,
			"GET",
			`/session/${session.id}/notes`,
			undefined,
			owner.token,
		);
		expect(stored.text).toBe("## Plan\n- ask about NOTE-SECRET-e2e");
		// Shared live with the other interviewer's page.
		await expect
			.poll(() => ownerSecond.locator('[data-slot="notes"] textarea').inputValue(), { timeout: 30_000 })
			.toBe(stored.text);

		// The editor has no Notes tab and nothing of the notes anywhere on the page.
		expect(await editorPage.locator('[data-slot="notes"]').isVisible()).toBe(false);
		expect(await editorPage.locator('[data-slot="notes"] textarea').count()).toBe(0);
		expect(await editorPage.content()).not.toContain("NOTE-SECRET-e2e");
	}, 300_000);
});
