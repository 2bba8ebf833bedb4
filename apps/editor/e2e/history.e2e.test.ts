import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, createSession, inviteUser, registerAccount, useAccountInPage } from "./support/accounts.ts";
import { launchChromium } from "./support/chromium.ts";
import { buildEditor, REPO_ROOT } from "./support/editorBuild.ts";

// Issue 15: the History tab plays a session back, re-runs an earlier version, restores it for
// everyone and shows authorship. The whole product (scripts/start.ts: sync-server, queue, runner pool).
let child: ChildProcess;
let dataDir: string;
let baseUrl: string;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function startProduct(editorDist: string): Promise<string> {
	dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-e2e-history-"));
	const env: Record<string, string | undefined> = { ...process.env };
	delete env.DATABASE_URL;
	delete env.REDIS_URL;
	child = spawn(process.execPath, [path.join(REPO_ROOT, "scripts/start.ts")], {
		cwd: REPO_ROOT,
		env: { ...env, PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, EDITOR_DIST: editorDist, LOG_LEVEL: "warn" },
		stdio: ["ignore", "pipe", "inherit"],
	});
	return new Promise((resolve, reject) => {
		let out = "";
		child.once("exit", (code) => reject(new Error(`scripts/start.ts exited with ${code}`)));
		child.stdout?.on("data", (d: Buffer) => {
			out += d.toString();
			const m = /"msg":"listening","url":"([^"]+)"/.exec(out);
			if (m?.[1]) resolve(m[1]);
		});
	});
}

async function pageFor(account: Awaited<ReturnType<typeof registerAccount>>, sessionId: string): Promise<Page> {
	const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
	contexts.push(context);
	const page = await context.newPage();
	await useAccountInPage(page, baseUrl, account);
	await page.goto(`${baseUrl}/s/${sessionId}`);
	await page.locator(".cm-content").waitFor();
	return page;
}

beforeAll(async () => {
	const dist = await buildEditor();
	baseUrl = await startProduct(dist);
	browser = await launchChromium();
}, 300_000);

afterAll(async () => {
	for (const c of contexts) await c.close().catch(() => {});
	await browser?.close();
	if (child && child.exitCode === null) {
		child.kill("SIGTERM");
		await new Promise((r) => child.once("exit", r));
	}
	if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("the History tab", () => {
	it("plays back, re-runs an earlier version, restores it for everyone and colours by author", async () => {
		const alice = await registerAccount(baseUrl, "histalice");
		const bob = await registerAccount(baseUrl, "histbob");
		const sessionId = await createSession(baseUrl, alice.token, { language: "python", code: "print('one')\n" });
		await inviteUser(baseUrl, alice.token, sessionId, bob.username, "editor");
		const alicePage = await pageFor(alice, sessionId);
		const bobPage = await pageFor(bob, sessionId);

		await bobPage.locator(".cm-content").click();
		await bobPage.keyboard.press("ControlOrMeta+a");
		await bobPage.keyboard.type("print('two')");
		// Wait for Bob's edit to be stored as a checkpoint (the condition, not a duration).
		for (;;) {
			const { events } = await api<{ events: { id: string; kind: string }[] }>(
				baseUrl,
				"GET",
				`/session/${sessionId}/history`,
				undefined,
				alice.token,
			);
			const last = events.filter((e) => e.kind === "edit").at(-1);
			const point = last
				? await api<{ code: string }>(
						baseUrl,
						"GET",
						`/session/${sessionId}/history/${last.id}`,
						undefined,
						alice.token,
					)
				: null;
			if (point?.code === "print('two')") break;
			await new Promise((r) => setTimeout(r, 100));
		}

		// Editors get no History tab: it is for the owner and interviewers.
		await bobPage.getByRole("button", { name: "Run", exact: true }).waitFor();
		expect(await bobPage.getByRole("button", { name: "History" }).count()).toBe(0);

		await alicePage.getByRole("button", { name: "History" }).click();
		const scrubber = alicePage.getByLabel("Point in the session", { exact: true }).and(alicePage.locator("input"));
		const code = alicePage.getByLabel("Code at this point");
		await code.filter({ hasText: "print('two')" }).waitFor();

		// Keyboard: Home goes to the start of the session, the first checkpoint.
		await scrubber.focus();
		await alicePage.keyboard.press("Home");
		await code.filter({ hasText: "print('one')" }).waitFor();
		expect(await scrubber.getAttribute("aria-valuetext")).toContain(`edit by ${alice.username}`);

		// Playback at 16× reaches Bob's version.
		await alicePage.getByLabel("Playback speed").selectOption("16");
		await alicePage.getByRole("button", { name: "Play" }).click();
		await code.filter({ hasText: "print('two')" }).waitFor();

		// Back to the start: run that version and get its output.
		await scrubber.focus();
		await alicePage.keyboard.press("Home");
		await code.filter({ hasText: "print('one')" }).waitFor();
		await alicePage.getByRole("button", { name: "Run this version" }).click();
		await alicePage.getByLabel("Output of this version").filter({ hasText: "one" }).waitFor();
		// The run is now a marker on the track.
		await alicePage.locator(".history-markers .run.ok").waitFor({ state: "attached" });

		// Restore it: Bob's editor shows it.
		await scrubber.focus();
		await alicePage.keyboard.press("Home");
		await code.filter({ hasText: "print('one')" }).waitFor();
		await alicePage.getByRole("button", { name: "Restore this version" }).click();
		await bobPage.locator(".cm-content").filter({ hasText: "print('one')" }).waitFor();
		await alicePage.locator(".cm-content").filter({ hasText: "print('one')" }).waitFor();

		// Authorship: the restored text is Alice's.
		await alicePage.getByLabel("Colour by author (current code)").check();
		const span = code.locator("span.author");
		await span.first().waitFor();
		expect(await span.first().getAttribute("data-user-id")).toBe(alice.id);
		expect(await span.first().getAttribute("title")).toBe(alice.username);
	}, 240_000);
});
