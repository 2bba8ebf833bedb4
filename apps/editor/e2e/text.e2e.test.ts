import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, createSession, type RegisteredAccount, registerAccount, useAccountInPage } from "./support/accounts.ts";
import { launchChromium } from "./support/chromium.ts";
import { buildEditor, REPO_ROOT } from "./support/editorBuild.ts";

// Text is text everywhere (RELIABILITY 37, 38), through the browser a person uses: the root
// `npm start` composition (sync-server, in-process queue and runner pool) on PGlite.
let child: ChildProcess;
let dataDir: string;
let baseUrl: string;
let browser: Browser;
const contexts: BrowserContext[] = [];
const SLOW = { timeout: 30_000 };

async function startProduct(editorDist: string): Promise<string> {
	dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-e2e-text-"));
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

/** A fresh browser profile (no local copy of any document) on the session page. */
async function freshPage(account: RegisteredAccount, sessionId: string): Promise<Page> {
	const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
	contexts.push(context);
	const page = await context.newPage();
	await useAccountInPage(page, baseUrl, account);
	await page.goto(`${baseUrl}/s/${sessionId}`);
	await page.locator(".cm-content").waitFor();
	return page;
}

/** Paste `text` into the editor as the clipboard would hand it over. */
async function paste(page: Page, text: string): Promise<void> {
	await page.locator(".cm-content").evaluate((content, pasted) => {
		const data = new DataTransfer();
		data.setData("text/plain", pasted);
		content.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
	}, text);
}

/** The editor's document as CodeMirror holds it (its own state, not the DOM, which draws NUL as a dot). */
function editorText(page: Page): Promise<string> {
	return page.evaluate(() => {
		// EditorView.findFromDOM, without importing CodeMirror into the page: the content tile's root view.
		type Tile = { root?: { view?: { state: { doc: { toString(): string } } } } };
		const content = document.querySelector(".cm-content") as (Element & { cmTile?: Tile }) | null;
		const view = content?.cmTile?.root?.view;
		if (!view) throw new Error("no CodeMirror view on .cm-content");
		return view.state.doc.toString();
	});
}

const storedCode = async (account: RegisteredAccount, sessionId: string) =>
	(await api<{ code: string }>(baseUrl, "GET", `/session/${sessionId}`, undefined, account.token)).code;

const syncBadge = (page: Page) => page.locator(".badge.sync").textContent();

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

describe("text in the browser", () => {
	let owner: RegisteredAccount;

	beforeAll(async () => {
		owner = await registerAccount(baseUrl, "textowner");
	}, 60_000);

	it("RELIABILITY 38: CRLF code from REST, '#' typed at the start of line 2 lands there on the server (SPEC CS7)", async () => {
		const sessionId = await createSession(baseUrl, owner.token, { language: "python", code: "a = 1\r\nb = 2\r\n" });
		const page = await freshPage(owner, sessionId);
		await page.locator(".cm-line").nth(1).filter({ hasText: "b = 2" }).waitFor();
		await page
			.locator(".cm-line")
			.nth(1)
			.click({ position: { x: 1, y: 5 } });
		await page.keyboard.press("Home");
		await page.keyboard.type("#");
		await expect.poll(() => storedCode(owner, sessionId), SLOW).toBe("a = 1\n#b = 2\n");
		expect(await editorText(page)).toBe("a = 1\n#b = 2\n");

		// A CRLF paste becomes LF lines in the editor and on the server alike.
		await page.keyboard.press("Control+End");
		await paste(page, "c = 3\r\nd = 4\re = 5\r\n");
		const expected = "a = 1\n#b = 2\nc = 3\nd = 4\ne = 5\n";
		await expect.poll(() => storedCode(owner, sessionId), SLOW).toBe(expected);
		expect(await editorText(page)).toBe(expected);
		await page.keyboard.type("f");
		await expect.poll(() => storedCode(owner, sessionId), SLOW).toBe(`${expected}f`);
	}, 90_000);

	it("RELIABILITY 37: a pasted NUL shows 'Saved', later typing is kept, and both survive a reload in a fresh browser", async () => {
		const sessionId = await createSession(baseUrl, owner.token, { language: "python", code: "x = 1\n" });
		const page = await freshPage(owner, sessionId);
		await page.locator(".cm-content").click();
		await page.keyboard.press("Control+End");
		await paste(page, "s = 'a\u0000b'\n");
		await page.keyboard.type("typed_after = 2");
		const expected = "x = 1\ns = 'a\u0000b'\ntyped_after = 2";
		await expect.poll(() => editorText(page), SLOW).toBe(expected);
		await expect.poll(() => syncBadge(page), SLOW).toBe("Saved");
		expect(await storedCode(owner, sessionId)).toBe(expected);

		const again = await freshPage(owner, sessionId);
		await expect.poll(() => editorText(again), SLOW).toBe(expected);
		await expect.poll(() => syncBadge(again), SLOW).toBe("Saved");
	}, 90_000);

	it("RELIABILITY 37: the Output pane shows CR progress as a terminal does and NUL as a symbol; the API keeps raw text", async () => {
		const code = 'print("progress 0%\\rprogress 25%\\rdone")\nprint("a\\0b")\n';
		const sessionId = await createSession(baseUrl, owner.token, { language: "python", code });
		const page = await freshPage(owner, sessionId);
		await page.getByRole("button", { name: "Run", exact: true }).click();
		const output = page.getByLabel("Output", { exact: true });
		await expect.poll(() => output.textContent(), SLOW).toBe("done\na\u2400b\n");
		const { runs } = await api<{ runs: { output: string }[] }>(
			baseUrl,
			"GET",
			`/session/${sessionId}/runs`,
			undefined,
			owner.token,
		);
		expect(runs[0]?.output).toBe("progress 0%\rprogress 25%\rdone\na\u0000b\n");
	}, 90_000);
});
