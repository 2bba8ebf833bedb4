import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, createSession, registerAccount, signInContext, useAccountInPage } from "./support/accounts.ts";
import { launchChromium } from "./support/chromium.ts";
import { buildEditor } from "./support/editorBuild.ts";
import { type RunningServer, startSyncServer } from "./support/syncServer.ts";

let server: RunningServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function newPage(): Promise<Page> {
	const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
	contexts.push(context);
	return context.newPage();
}

beforeAll(async () => {
	const dist = await buildEditor();
	server = await startSyncServer({ editorDist: dist });
	browser = await launchChromium();
	// The editor build alone takes minutes on a loaded machine.
}, 600_000);

afterAll(async () => {
	for (const context of contexts) await context.close().catch(() => {});
	await browser?.close();
	await server?.stop();
});

describe("an interview from one link", () => {
	it("the interviewer makes a link in Share; someone without an account opens it, types a name, lands in the session and types; a viewer cannot run", async () => {
		const interviewer = await registerAccount(server.url, "interviewer");
		const sessionId = await createSession(server.url, interviewer.token, { language: "python", code: "print(1)\n" });
		const host = await newPage();
		await useAccountInPage(host, server.url, interviewer);
		// The browser signs in with the httpOnly cookie (RELIABILITY 51).
		await signInContext(host.context(), server.url, interviewer);
		await host.goto(`${server.url}/s/${sessionId}`);
		await host.locator(".cm-content").waitFor();

		await host.getByRole("button", { name: "Share" }).click();
		await host.getByLabel("Link role").selectOption("editor");
		await host.getByRole("button", { name: "Create link" }).click();
		const linkInput = host.getByLabel("Invite link (editor)");
		await linkInput.waitFor();
		await host.getByText("Anyone with this link can join as an editor").waitFor();
		const url = await linkInput.inputValue();
		expect(url).toMatch(new RegExp(`^${server.url}/join/[A-Za-z0-9_-]{32}$`));
		await host.getByRole("button", { name: "Close" }).click();

		// A person without an account: the link asks for a name, then opens the session.
		const candidate = await newPage();
		await candidate.goto(url);
		await candidate.getByLabel("Your name").fill("Kim Lê");
		await candidate.getByRole("button", { name: "Join" }).click();
		await candidate.waitForURL(`${server.url}/s/${sessionId}`);
		await candidate.locator(".cm-content").waitFor();
		await candidate.locator(".badge.read-only").waitFor({ state: "hidden" });
		await candidate.locator(".cm-content").click();
		await candidate.keyboard.press("Control+End");
		await candidate.keyboard.type("# hello from Kim");
		await host.locator(".cm-content").getByText("# hello from Kim").waitFor();
		await host.getByRole("list", { name: "Participants" }).getByText("Kim Lê (guest)").waitFor();
		await expect(candidate.getByRole("button", { name: "Run", exact: true }).isEnabled()).resolves.toBe(true);

		// A viewer's link: the viewer reads along but cannot run (and the server says 403).
		const viewerLink = await api<{ url: string }>(
			server.url,
			"POST",
			`/session/${sessionId}/links`,
			{ role: "viewer" },
			interviewer.token,
		);
		const viewer = await newPage();
		await viewer.goto(viewerLink.url);
		await viewer.getByLabel("Your name").fill("Watcher");
		await viewer.getByRole("button", { name: "Join" }).click();
		await viewer.waitForURL(`${server.url}/s/${sessionId}`);
		await viewer.locator(".cm-content").getByText("# hello from Kim").waitFor();
		await viewer.getByText("Viewers cannot run code.").waitFor();
		expect(await viewer.getByRole("button", { name: "Run", exact: true }).isDisabled()).toBe(true);
		const status = await viewer.evaluate(async (id) => {
			// Signed in by the page's httpOnly cookie, as the editor itself is (RELIABILITY 51).
			const res = await fetch("/submit-code", {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ sessionId: id }),
			});
			return res.status;
		}, sessionId);
		expect(status).toBe(403);
	}, 180_000);
});
