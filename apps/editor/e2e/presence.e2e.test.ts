import { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";
import * as encoding from "lib0/encoding";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import {
	createSession,
	inviteUser,
	type RegisteredAccount,
	registerAccount,
	signInContext,
} from "./support/accounts.ts";
import { launchChromium } from "./support/chromium.ts";
import { buildEditor } from "./support/editorBuild.ts";
import { type RunningServer, startSyncServer } from "./support/syncServer.ts";

// RELIABILITY 46 in the browser: another participant's presence (name, colour, cursor) is drawn in
// the editor and the People list; nothing of it may reach the page as style or markup.
let server: RunningServer;
let browser: Browser;
let owner: RegisteredAccount;
let mallory: RegisteredAccount;
let sessionId: string;
const contexts: BrowserContext[] = [];
const cleanup: Array<() => void> = [];

const HOSTILE_COLOR = "red; position: fixed; inset: 0; z-index: 99999; background: url(https://attacker.example/x.png)";
const HOSTILE_NAME = "Alice\u202e <img src=x onerror=alert(1)>";

beforeAll(async () => {
	server = await startSyncServer({ editorDist: await buildEditor() });
	owner = await registerAccount(server.url, "owner");
	mallory = await registerAccount(server.url, "mallory");
	sessionId = await createSession(server.url, owner.token, { title: "presence", code: "print(1)\n" });
	await inviteUser(server.url, owner.token, sessionId, mallory.username, "viewer");
	browser = await launchChromium();
});

afterAll(async () => {
	for (const fn of cleanup) fn();
	for (const context of contexts) await context.close().catch(() => {});
	await browser?.close();
	await server?.stop();
});

async function ownerPage(setup?: (page: Page) => Promise<void>): Promise<Page> {
	const context = await browser.newContext();
	contexts.push(context);
	// The browser signs in with the httpOnly cookie; localStorage keeps only the profile (RELIABILITY 51).
	await signInContext(context, server.url, owner);
	const page = await context.newPage();
	await page.addInitScript(
		(auth) => localStorage.setItem("tandem.auth", auth),
		JSON.stringify({ token: owner.token, user: { id: owner.id, username: owner.username } }),
	);
	await setup?.(page);
	await page.goto(`${server.url}/s/${sessionId}`);
	await page.locator(".cm-content").waitFor();
	return page;
}

/** Every style attribute and every inline style on the page, as text. */
function styles(page: Page): Promise<string[]> {
	return page.$$eval("[style]", (elements) => elements.map((e) => e.getAttribute("style") ?? ""));
}

const HEX_OR_RGB = /^(#[0-9a-f]{6,8}|rgba?\([\d.,\s]+\))$/i;

async function caretColors(page: Page): Promise<string[]> {
	return page.$$eval(".cm-ySelectionCaret", (carets) => carets.map((c) => (c as HTMLElement).style.backgroundColor));
}

describe("hostile presence in the browser", () => {
	it("RELIABILITY 46: a viewer's hostile colour and name never reach the owner's page as style or markup", async () => {
		const page = await ownerPage();
		// Mallory, a viewer, with the stock provider: her cursor at the start of the code.
		const socket = new HocuspocusProviderWebsocket({ url: `${server.url.replace(/^http/, "ws")}/collab/${sessionId}` });
		const doc = new Y.Doc();
		const provider = new HocuspocusProvider({
			websocketProvider: socket,
			name: sessionId,
			document: doc,
			token: mallory.token,
		});
		provider.attach();
		cleanup.push(() => {
			provider.destroy();
			socket.destroy();
		});
		await new Promise<void>((resolve) => provider.on("synced", () => resolve()));
		const at = Y.createRelativePositionFromTypeIndex(doc.getText("code"), 1);
		provider.awareness?.setLocalState({
			user: { id: owner.id, name: HOSTILE_NAME, color: HOSTILE_COLOR, colorLight: `${HOSTILE_COLOR}33` },
			cursor: { anchor: at, head: at },
		});

		await page.locator(".cm-ySelectionCaret").first().waitFor();
		await page.locator(".presence li", { hasText: mallory.username }).waitFor();
		for (const style of await styles(page)) {
			expect(style).not.toMatch(/url\(|attacker|inset|99999|position:\s*fixed/i);
		}
		for (const color of await caretColors(page)) expect(color).toMatch(HEX_OR_RGB);
		// The name is her account's, shown as text.
		expect(await page.locator(".cm-ySelectionInfo").first().textContent()).toBe(mallory.username);
		expect(await page.locator("img[src=x]").count()).toBe(0);
	});

	it("RELIABILITY 46: the editor itself refuses a hostile state that reaches it (injected past the server)", async () => {
		let inject: ((frame: Buffer) => void) | null = null;
		let address: string | null = null;
		const page = await ownerPage(async (p) => {
			await p.routeWebSocket(/\/collab/, (ws) => {
				const upstream = ws.connectToServer();
				ws.onMessage((m) => upstream.send(m));
				upstream.onMessage((m) => {
					if (address === null && typeof m !== "string") {
						const bytes = new Uint8Array(m);
						// The first varString of every message is its address (document name, maybe with a session).
						let length = 0;
						let shift = 0;
						let i = 0;
						for (; i < bytes.length; i++) {
							const byte = bytes[i] ?? 0;
							length |= (byte & 0x7f) << shift;
							shift += 7;
							if ((byte & 0x80) === 0) break;
						}
						address = Buffer.from(bytes.subarray(i + 1, i + 1 + length)).toString("utf8");
					}
					ws.send(m);
				});
				inject = (frame) => ws.send(frame);
			});
		});
		await expect.poll(() => inject !== null && address !== null, { timeout: 120_000 }).toBe(true);
		const cursor = {
			anchor: { type: null, tname: "code", item: null, assoc: 0 },
			head: { type: null, tname: "code", item: null, assoc: 0 },
		};
		const entries = [
			{ clientId: 777_001, state: { user: { id: "u-a", name: "Painter", color: HOSTILE_COLOR }, cursor } },
			{ clientId: 777_002, state: { user: { id: "u-b", name: HOSTILE_NAME, color: "#123456" }, cursor } },
		];
		const update = encoding.createEncoder();
		encoding.writeVarUint(update, entries.length);
		for (const { clientId, state } of entries) {
			encoding.writeVarUint(update, clientId);
			encoding.writeVarUint(update, 1);
			encoding.writeVarString(update, JSON.stringify(state));
		}
		const frame = encoding.createEncoder();
		encoding.writeVarString(frame, address as unknown as string);
		encoding.writeVarUint(frame, 1); // awareness
		encoding.writeVarUint8Array(frame, encoding.toUint8Array(update));
		(inject as unknown as (frame: Buffer) => void)(Buffer.from(encoding.toUint8Array(frame)));

		await page.locator(".cm-ySelectionInfo", { hasText: "Painter" }).waitFor();
		for (const style of await styles(page)) {
			expect(style).not.toMatch(/url\(|attacker|inset|99999|position:\s*fixed/i);
		}
		for (const color of await caretColors(page)) expect(color).toMatch(HEX_OR_RGB);
		const labels = await page.$$eval(".cm-ySelectionInfo", (infos) => infos.map((i) => i.textContent ?? ""));
		expect(labels.some((label) => label.includes("\u202e"))).toBe(false);
		expect(await page.locator("img[src=x]").count()).toBe(0);
	});
});
