import { statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	api,
	newAccount,
	registerAccount,
	signUpThroughPage,
	type TestAccount,
	useAccountInPage,
} from "./support/accounts.ts";
import { launchChromium } from "./support/chromium.ts";
import { buildEditor, REPO_ROOT } from "./support/editorBuild.ts";
import { type RunningServer, startSyncServer } from "./support/syncServer.ts";

let server: RunningServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function newPage(viewport = { width: 1280, height: 800 }): Promise<Page> {
	const context = await browser.newContext({ viewport });
	contexts.push(context);
	return context.newPage();
}

function editorContent(page: Page) {
	return page.locator(".cm-content");
}

/** The document as the editor shows it, one line per `.cm-line`, without remote cursor widgets. */
function documentText(page: Page): Promise<string> {
	return page.evaluate(() => {
		const lines = [...document.querySelectorAll(".cm-content .cm-line")].map((line) => {
			const copy = line.cloneNode(true) as Element;
			for (const widget of copy.querySelectorAll(".cm-ySelectionCaret, .cm-widgetBuffer")) widget.remove();
			return copy.textContent ?? "";
		});
		return lines.join("\n");
	});
}

async function typeAtEnd(page: Page, text: string): Promise<void> {
	await editorContent(page).click();
	await page.keyboard.press("Control+End");
	await page.keyboard.type(text);
}

beforeAll(async () => {
	const dist = await buildEditor();
	server = await startSyncServer({ editorDist: dist });
	browser = await launchChromium();
});

afterAll(async () => {
	for (const context of contexts) await context.close().catch(() => {});
	await browser?.close();
	await server?.stop();
});

describe("two people editing one session in the browser", () => {
	const alice: TestAccount = newAccount("alice");
	const bob: TestAccount = newAccount("bob");
	let alicePage: Page;
	let bobPage: Page;
	let sessionUrl: string;

	it("signs both people up through the page and lands on their session lists", async () => {
		alicePage = await newPage();
		bobPage = await newPage();
		await signUpThroughPage(alicePage, server.url, alice);
		await signUpThroughPage(bobPage, server.url, bob);
		expect(new URL(alicePage.url()).pathname).toBe("/");
		await expect.poll(() => alicePage.getByRole("button", { name: "New session" }).count()).toBe(1);
	});

	it("shows the server's reason when signing up with a taken username", async () => {
		const page = await newPage();
		await page.goto(`${server.url}/signup`);
		await page.getByLabel("Username").fill(alice.username);
		await page.getByLabel("Email").fill(`other-${alice.email}`);
		await page.getByLabel("Password").fill(alice.password);
		await page.getByRole("button", { name: "Sign up" }).click();
		await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/already taken/);
	});

	it("creates a session and invites the other person through the share dialog", async () => {
		await alicePage.getByLabel("Title").fill("Pairing <b>demo</b>");
		await alicePage.getByLabel("Language").selectOption("python");
		await alicePage.getByRole("button", { name: "New session" }).click();
		await alicePage.waitForURL(/\/s\/[A-Za-z0-9_-]+$/);
		sessionUrl = alicePage.url();
		// The title is text, never markup (RELIABILITY 30).
		await expect.poll(() => alicePage.locator(".session-title").textContent()).toBe("Pairing <b>demo</b>");

		await alicePage.getByRole("button", { name: "Share" }).click();
		expect(await alicePage.getByLabel("Link", { exact: true }).inputValue()).toBe(sessionUrl);
		await alicePage.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
		await alicePage.getByRole("button", { name: "Copy link" }).click();
		await expect.poll(() => alicePage.getByText("Link copied.").count()).toBe(1);
		expect(await alicePage.evaluate(() => navigator.clipboard.readText())).toBe(sessionUrl);
		await alicePage.getByLabel("Username or email").fill("nobody-here-at-all");
		await alicePage.getByRole("button", { name: "Invite" }).click();
		await expect.poll(() => alicePage.locator(".invite-status").textContent()).toBe("No such user");

		await alicePage.getByLabel("Username or email").fill(bob.username);
		await alicePage.getByRole("combobox", { name: /^Role/ }).selectOption("editor");
		await alicePage.getByRole("button", { name: "Invite" }).click();
		await expect
			.poll(() => alicePage.locator(".invite-status").textContent())
			.toBe(`Invited ${bob.username} as editor.`);
		await alicePage.getByRole("button", { name: "Close" }).click();
	});

	it("shows Bob the invitation live on his open session list, without a reload", async () => {
		expect(new URL(bobPage.url()).pathname).toBe("/");
		const notice = bobPage.locator(".sessions-page .notice");
		await expect
			.poll(() => notice.textContent())
			.toBe(`${alice.username} invited you to “Pairing <b>demo</b>” as editor Open`);
		expect(await notice.getByRole("link", { name: "Open" }).getAttribute("href")).toBe(new URL(sessionUrl).pathname);
		const listed = bobPage
			.getByRole("list", { name: "My sessions" })
			.getByRole("link", { name: "Pairing <b>demo</b>" });
		await expect.poll(() => listed.count()).toBe(1);
	});

	it("connects both editors live and shows each person's text and named cursor to the other", async () => {
		await bobPage.goto(sessionUrl);
		for (const page of [alicePage, bobPage]) {
			await expect.poll(() => page.locator(".badge.connection").textContent(), { timeout: 20_000 }).toBe("Live");
		}

		await typeAtEnd(alicePage, "print('from alice')\n");
		await expect.poll(() => editorContent(bobPage).textContent()).toContain("print('from alice')");
		await typeAtEnd(bobPage, "print('from bob')");
		await expect.poll(() => editorContent(alicePage).textContent()).toContain("print('from bob')");
		const both = "print('from alice')\nprint('from bob')";
		await expect.poll(() => documentText(bobPage)).toBe(both);
		await expect.poll(() => documentText(alicePage)).toBe(both);

		await expect.poll(() => alicePage.locator(".cm-ySelectionInfo").allTextContents()).toContain(bob.username);
		await expect.poll(() => bobPage.locator(".cm-ySelectionInfo").allTextContents()).toContain(alice.username);
		await expect
			.poll(() => alicePage.locator(".presence .name").allTextContents())
			.toEqual([alice.username, bob.username]);
	});

	it("switches the language for everyone and re-highlights both editors", async () => {
		await alicePage.getByLabel("Language").selectOption("javascript");
		await expect.poll(() => bobPage.getByLabel("Language").inputValue()).toBe("javascript");
		await expect.poll(() => bobPage.locator(".cm-editor").getAttribute("data-language")).toBe("javascript");
		await expect.poll(() => alicePage.locator(".cm-editor").getAttribute("data-language")).toBe("javascript");
		// The JavaScript pack loaded and tokenised the code: highlighted spans appear.
		await expect.poll(() => bobPage.locator(".cm-line span").count()).toBeGreaterThan(0);
	});

	it("undoes only your own typing, never a collaborator's", async () => {
		await typeAtEnd(bobPage, "\n# bob stays");
		await expect.poll(() => documentText(alicePage)).toContain("# bob stays");
		await typeAtEnd(alicePage, "\n# alice undoes this");
		await expect.poll(() => documentText(bobPage)).toContain("# alice undoes this");
		await alicePage.keyboard.press("Control+z");
		await expect.poll(() => documentText(bobPage)).not.toContain("# alice undoes this");
		expect(await documentText(alicePage)).toContain("# bob stays");
	});

	it("shows saved once the server has stored the local edits", async () => {
		await typeAtEnd(bobPage, "\n// saved?");
		await expect.poll(() => bobPage.locator(".badge.sync").textContent(), { timeout: 30_000 }).toBe("Saved");
	});

	it("sends a visitor to login and back, and says so when they are not a participant", async () => {
		const carol = await registerAccount(server.url, "carol");
		const page = await newPage();
		await page.goto(sessionUrl);
		await page.waitForURL(/\/login\?next=/);
		await page.getByLabel("Email or username").fill(carol.email);
		await page.getByLabel("Password").fill(carol.password);
		await page.getByRole("button", { name: "Log in" }).click();
		await page.waitForURL(sessionUrl);
		await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/not a participant/);

		await page.goto(`${server.url}/s/${"x".repeat(21)}`);
		await expect.poll(() => page.locator("h1").textContent()).toBe("No such session");
	});

	it("gives a viewer a read-only editor with a badge", async () => {
		const dave = await registerAccount(server.url, "dave");
		await alicePage.getByRole("button", { name: "Share" }).click();
		await alicePage.getByLabel("Username or email").fill(dave.email);
		await alicePage.getByRole("combobox", { name: /^Role/ }).selectOption("viewer");
		await alicePage.getByRole("button", { name: "Invite" }).click();
		await expect
			.poll(() => alicePage.locator(".invite-status").textContent())
			// By email the answer never says whether an account has it (RELIABILITY 50); logging in claims it.
			.toBe(`Invited ${dave.email} as viewer: they join when they sign in with that email.`);
		await alicePage.getByRole("button", { name: "Close" }).click();

		const page = await newPage();
		await page.goto(`${server.url}/login?next=${encodeURIComponent(new URL(sessionUrl).pathname)}`);
		await page.getByLabel("Email or username").fill(dave.username);
		await page.getByLabel("Password").fill(dave.password);
		await page.getByRole("button", { name: "Log in" }).click();
		await page.waitForURL(sessionUrl);
		await expect.poll(() => page.locator(".badge.read-only").isVisible()).toBe(true);
		await expect.poll(() => editorContent(page).textContent()).toContain("print('from bob')");
		expect(await editorContent(page).getAttribute("contenteditable")).toBe("false");
		expect(await page.getByLabel("Language").isDisabled()).toBe(true);
	});

	it("turns an open editor read-only when the owner downgrades them to viewer (RELIABILITY 20)", async () => {
		const carol = await registerAccount(server.url, "carol");
		const invite = async (role: "editor" | "viewer") => {
			await alicePage.getByRole("button", { name: "Share" }).click();
			await alicePage.getByLabel("Username or email").fill(carol.username);
			await alicePage.getByRole("combobox", { name: /^Role/ }).selectOption(role);
			await alicePage.getByRole("button", { name: "Invite" }).click();
			await expect
				.poll(() => alicePage.locator(".invite-status").textContent())
				.toBe(`Invited ${carol.username} as ${role}.`);
			await alicePage.getByRole("button", { name: "Close" }).click();
		};
		await invite("editor");
		const page = await newPage();
		await useAccountInPage(page, server.url, carol);
		await page.goto(sessionUrl);
		await expect.poll(() => page.locator(".badge.connection").textContent(), { timeout: 20_000 }).toBe("Live");
		expect(await editorContent(page).getAttribute("contenteditable")).toBe("true");

		await invite("viewer");
		await expect.poll(() => page.locator(".badge.read-only").isVisible(), { timeout: 10_000 }).toBe(true);
		expect(await editorContent(page).getAttribute("contenteditable")).toBe("false");
	});

	it("fits a phone screen without horizontal scrolling", async () => {
		const page = await newPage({ width: 390, height: 844 });
		await page.goto(`${server.url}/login`);
		await page.getByLabel("Email or username").fill(bob.username);
		await page.getByLabel("Password").fill(bob.password);
		await page.getByRole("button", { name: "Log in" }).click();
		await page.waitForURL(`${server.url}/`);
		await page.goto(sessionUrl);
		await expect.poll(() => page.locator(".badge.connection").textContent(), { timeout: 20_000 }).toBe("Live");
		await typeAtEnd(page, `\n// ${"a very long line that must scroll inside the editor ".repeat(4)}`);
		const overflow = await page.evaluate(
			() => document.documentElement.scrollWidth - document.documentElement.clientWidth,
		);
		expect(overflow).toBeLessThanOrEqual(0);
		expect(await page.locator(".editor-pane").isVisible()).toBe(true);
	});

	it("changes the password from the session list and ends the other device's connection (RELIABILITY 27)", async () => {
		const dana = await registerAccount(server.url, "dana");
		const created = await api<{ id: string }>(server.url, "POST", "/create-session", {}, dana.token);
		const laptop = await newPage();
		await useAccountInPage(laptop, server.url, dana);
		await laptop.goto(`${server.url}/s/${created.id}`);
		await expect.poll(() => laptop.locator(".badge.connection").textContent(), { timeout: 20_000 }).toBe("Live");

		const phone = await newPage();
		await useAccountInPage(phone, server.url, dana);
		await phone.goto(`${server.url}/`);
		await phone.getByText("Account").click();
		await phone.getByLabel("Current password").fill("not the password");
		await phone.getByLabel("New password").fill("a fresh passphrase for dana");
		await phone.getByRole("button", { name: "Change password" }).click();
		await expect
			.poll(() => phone.locator(".change-password [role=status]").textContent())
			.toBe("The current password is wrong");
		await phone.getByLabel("Current password").fill(dana.password);
		await phone.getByLabel("New password").fill("a fresh passphrase for dana");
		await phone.getByRole("button", { name: "Change password" }).click();
		await expect
			.poll(() => phone.locator(".change-password [role=status]").textContent())
			.toBe("Password changed. Other devices have been signed out.");

		// The laptop's document connection ends and it says why; the old token is refused; the phone keeps
		// working with its new token.
		await expect.poll(() => laptop.locator(".badge.connection").textContent(), { timeout: 20_000 }).toBe("Offline");
		expect(await laptop.getByRole("alert").filter({ hasText: "signed out" }).count()).toBe(1);
		await expect(api(server.url, "GET", "/me", undefined, dana.token)).rejects.toThrow(/401/);
		await phone.reload();
		await expect.poll(() => phone.getByRole("link", { name: "Untitled" }).count(), { timeout: 20_000 }).toBe(1);
	});

	it("takes the README screenshot with two people in the session", async () => {
		// Only the two people stay: the other visitors leave the presence list.
		for (const context of contexts.slice(2)) await context.close();
		await expect
			.poll(() => alicePage.locator(".presence .name").allTextContents())
			.toEqual([alice.username, bob.username]);
		await typeAtEnd(alicePage, "\nconst greet = (name) => `hello, ${name}`;\nconsole.log(greet('tandem'));");
		await bobPage.keyboard.press("Shift+Home");
		await expect.poll(() => bobPage.locator(".cm-ySelectionInfo").allTextContents()).toContain(alice.username);
		await expect.poll(() => alicePage.locator(".cm-ySelectionInfo").allTextContents()).toContain(bob.username);
		// UPDATE_SCREENSHOT=1 refreshes the README's picture; otherwise it goes to a temp file
		// so ordinary runs leave the working tree clean.
		const target = process.env.UPDATE_SCREENSHOT
			? path.join(REPO_ROOT, "docs/screenshot.png")
			: path.join(os.tmpdir(), "tandem-session-screenshot.png");
		await alicePage.screenshot({ path: target });
		expect(statSync(target).size).toBeGreaterThan(0);
	});

	it("shows offline when the server goes away, and keeps the local edits", async () => {
		await server.stop();
		for (const page of [alicePage, bobPage]) {
			await expect.poll(() => page.locator(".badge.connection").textContent(), { timeout: 20_000 }).toBe("Offline");
		}
		await typeAtEnd(alicePage, "\n// typed offline");
		expect(await alicePage.locator(".badge.sync").textContent()).toBe("Offline");
		expect(await documentText(alicePage)).toContain("// typed offline");
	});
});
