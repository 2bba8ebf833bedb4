import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSession, inviteUser, registerAccount, useAccountInPage } from "./support/accounts.ts";
import { launchChromium } from "./support/chromium.ts";
import { buildEditor, REPO_ROOT } from "./support/editorBuild.ts";

// The root `npm start` composition (scripts/start.ts): sync-server, in-process queue and runner pool.
let child: ChildProcess;
let dataDir: string;
let baseUrl: string;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function startProduct(editorDist: string): Promise<string> {
	dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-e2e-run-"));
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
	const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
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
}, 180_000);

afterAll(async () => {
	for (const c of contexts) await c.close().catch(() => {});
	await browser?.close();
	if (child && child.exitCode === null) {
		child.kill("SIGTERM");
		await new Promise((r) => child.once("exit", r));
	}
	if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("running code and tests in two browsers", () => {
	let alice: Page;
	let bob: Page;

	beforeAll(async () => {
		const a = await registerAccount(baseUrl, "runalice");
		const b = await registerAccount(baseUrl, "runbob");
		const sessionId = await createSession(baseUrl, a.token, {
			language: "python",
			code: "name = input()\nprint('hello', name)\n",
		});
		await inviteUser(baseUrl, a.token, sessionId, b.username, "editor");
		alice = await pageFor(a, sessionId);
		bob = await pageFor(b, sessionId);
	}, 60_000);

	it("one person presses Run and both see the output and who started it", async () => {
		await alice.getByLabel("Stdin").first().fill("world");
		await alice.getByRole("button", { name: "Run", exact: true }).click();
		for (const page of [alice, bob]) {
			await page.getByLabel("Output", { exact: true }).filter({ hasText: "hello world" }).waitFor();
			const summary = await page.locator(".run-summary").first().textContent();
			expect(summary).toMatch(/^OK · \d+ ms/);
			expect(summary).toContain("started by runalice");
		}
	}, 60_000);

	it("the owner adds tests, the candidate sees them; Run tests shows verdicts in both browsers", async () => {
		const group = alice.getByRole("group", { name: "New test" });
		await group.getByLabel("Name").fill("greets");
		await group.getByLabel("Stdin").fill("ann");
		await group.getByLabel("Expected output").fill("hello ann");
		await group.getByRole("button", { name: "Add test" }).click();
		await bob.getByRole("button", { name: "Delete greets" }).waitFor();
		// Only the owner and interviewers change tests: the candidate's controls are disabled.
		expect(await bob.getByRole("button", { name: "Delete greets" }).isDisabled()).toBe(true);

		const aliceGroup = alice.getByRole("group", { name: "New test" });
		await aliceGroup.getByLabel("Name").fill("wrong");
		await aliceGroup.getByLabel("Stdin").fill("bo");
		await aliceGroup.getByLabel("Expected output").fill("bye bo");
		await aliceGroup.getByRole("button", { name: "Add test" }).click();
		await bob.getByRole("button", { name: "Delete wrong" }).waitFor();

		await alice.getByRole("button", { name: "Run tests" }).click();
		for (const page of [alice, bob]) {
			await page.getByText("1 of 2 tests passed").waitFor();
			await page.getByText("greets: Passed").waitFor();
			await page.getByText("wrong: Wrong answer").waitFor();
			expect(await page.getByLabel("Expected output of wrong").textContent()).toBe("bye bo");
			expect(await page.getByLabel("Actual output of wrong").textContent()).toBe("hello bo\n");
		}
	}, 90_000);
});
