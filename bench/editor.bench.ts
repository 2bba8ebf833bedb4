// Issue "Benchmarks" part 5: Tandem's session page beside a minimal CodeMirror 6 +
// y-codemirror.next + @hocuspocus/provider page (bench/editor-baseline), both built by Vite
// in production mode, served by the same sync-server and opened on the same session in
// Debian Chromium: JavaScript shipped, time to an editable synced editor, typing latency.
import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { HocuspocusProvider } from "@hocuspocus/provider";
import { codeText } from "@tandem/crdt-schema";
import type { Browser, BrowserContext, Page } from "playwright-core";
import WebSocket from "ws";
import { createSession, type RegisteredAccount, registerAccount } from "../apps/editor/e2e/support/accounts.ts";
import { launchChromium } from "../apps/editor/e2e/support/chromium.ts";
import { buildEditor } from "../apps/editor/e2e/support/editorBuild.ts";
import { type RunningServer, startSyncServer } from "../apps/editor/e2e/support/syncServer.ts";
import { BASELINE_BASE, buildEditorBaseline } from "./harness/editorBaseline.ts";
import { fmt, fmtBytes, quantile, table } from "./harness/stats.ts";

type PageName = "tandem" | "minimal";
const PAGES: readonly PageName[] = ["tandem", "minimal"];

/** First line of every seeded document: its presence in `.cm-content` means the server's text arrived. */
const MARKER = "# tandem-editor-bench seeded";
const SMALL_CODE = `${MARKER}\n${"def f(x):\n    return x * 2\n\n".repeat(40)}`;
/** The typing test's document: about 1 MB of Python. */
const BIG_DOC_BYTES = 1_000_000;
const READY_TIMEOUT_MS = 60_000;
/** Keystrokes before measuring: the first ones pay for JIT warm-up and the first scroll. */
const WARMUP_KEYS = 10;

/** Bytes received over the network during a cold load until ready, from Chromium's own counts. */
export interface WireBytes {
	/** Every response (page, scripts, styles, manifest, icons): headers and body as they travelled. */
	readonly totalBytes: number;
	/** Script responses only. */
	readonly scriptBytes: number;
	/** Responses that arrived compressed (a content-encoding header), of all responses. */
	readonly encodedResponses: number;
	readonly responses: number;
}

export interface LoadRun {
	readonly page: PageName;
	/** The cold load's bytes on the wire (measured in the first run of each page). */
	readonly coldWire?: WireBytes;
	readonly cold: number;
	readonly warm: number;
	/** When the page made its collaboration WebSocket (ms since navigation start). */
	readonly coldSocket: number;
	readonly warmSocket: number;
	/** Whether the warm navigation was answered by a service worker. */
	readonly warmFromServiceWorker: boolean;
}

export interface TypingResult {
	readonly page: PageName;
	readonly samples: number;
	readonly p50Ms: number;
	readonly p99Ms: number;
	readonly maxMs: number;
	/** The text typed on the page reached the server and a Node client, exactly. */
	readonly arrived: boolean;
}

export interface BundleResult {
	readonly page: PageName;
	readonly files: readonly string[];
	readonly rawBytes: number;
	readonly gzipBytes: number;
}

export interface EditorChecks {
	readonly bundles: readonly BundleResult[];
	readonly loads: readonly LoadRun[];
	readonly typing: readonly TypingResult[];
	readonly bigDocChars: number;
}

declare global {
	interface Window {
		__benchReadyAt?: number;
		__benchSocketAt?: number;
		__benchLatencies?: number[];
	}
}

/**
 * Injected before any page script: records `performance.now()` (ms since navigation start)
 * the first time the editor is editable and synced, i.e. `.cm-content` is contenteditable,
 * contains the seeded first line, and the connection badge reads "Live" (Tandem's badge
 * says so once the provider reports synced; the baseline's badge copies the same event).
 */
function readyDetector(marker: string): void {
	const isReady = () => {
		const content = document.querySelector(".cm-content");
		if (content?.getAttribute("contenteditable") !== "true") return false;
		if (document.querySelector(".badge.connection")?.textContent !== "Live") return false;
		return content.querySelector(".cm-line")?.textContent?.includes(marker) ?? false;
	};
	// When the page opens its collaboration socket: what comes before it is the page's own startup.
	const NativeWebSocket = window.WebSocket;
	window.WebSocket = new Proxy(NativeWebSocket, {
		construct(target, args: [string | URL, (string | string[])?]) {
			window.__benchSocketAt ??= performance.now();
			return new target(...args);
		},
	});
	const observer = new MutationObserver(() => {
		if (window.__benchReadyAt === undefined && isReady()) {
			window.__benchReadyAt = performance.now();
			observer.disconnect();
		}
	});
	observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
}

function bigDocument(): string {
	const block = [
		"def fibonacci(n: int) -> int:",
		"    a, b = 0, 1",
		"    for _ in range(n):",
		"        a, b = b, a + b",
		"    return a",
		"",
		"",
	].join("\n");
	return `${MARKER}\n${block.repeat(Math.ceil(BIG_DOC_BYTES / block.length))}`;
}

/** `count` keys: lines like `total = alpha + beta * gamma - delta`, so Enter indents the same on both pages. */
function keystrokes(count: number): string {
	const line = "total = alpha + beta * gamma - delta\n";
	return line.repeat(Math.ceil(count / line.length)).slice(0, count);
}

class Bench {
	readonly server: RunningServer;
	readonly browser: Browser;
	readonly account: RegisteredAccount;
	readonly dist: string;

	constructor(server: RunningServer, browser: Browser, account: RegisteredAccount, dist: string) {
		this.server = server;
		this.browser = browser;
		this.account = account;
		this.dist = dist;
	}

	url(page: PageName, sessionId: string): string {
		return page === "tandem"
			? `${this.server.url}/s/${sessionId}`
			: `${this.server.url}${BASELINE_BASE}?session=${sessionId}#token=${this.account.token}`;
	}

	/** A fresh context (empty cache, no service worker) with the sign-in and the ready detector. */
	async context(page: PageName): Promise<BrowserContext> {
		const context = await this.browser.newContext({ viewport: { width: 1280, height: 800 } });
		if (page === "tandem") {
			const { token, id, username, email } = this.account;
			const auth = JSON.stringify({ token, user: { id, username, email } });
			// Tandem signs in with the httpOnly cookie and keeps the profile in localStorage (RELIABILITY 51);
			// set both without visiting a page first (cache stays empty).
			await context.addCookies([
				{ name: "tandem_token", value: token, url: this.server.url, httpOnly: true, sameSite: "Lax" },
			]);
			await context.addInitScript((value) => {
				if (!localStorage.getItem("tandem.auth")) localStorage.setItem("tandem.auth", value);
			}, auth);
		}
		await context.addInitScript(readyDetector, MARKER);
		return context;
	}

	/** Navigate and wait until editable and synced; returns ms from navigation start. */
	async openReady(tab: Page, url: string): Promise<{ ready: number; socket: number }> {
		// Through about:blank, so a second visit is a new document even when only the hash would match.
		if (tab.url() !== "about:blank") await tab.goto("about:blank");
		await tab.goto(url, { waitUntil: "commit" });
		await tab.waitForFunction(() => window.__benchReadyAt !== undefined, null, { timeout: READY_TIMEOUT_MS });
		return tab.evaluate(() => ({
			ready: window.__benchReadyAt ?? Number.NaN,
			socket: window.__benchSocketAt ?? Number.NaN,
		}));
	}

	/**
	 * Count what a tab receives over the network until `stop()`: Chrome DevTools Protocol
	 * `Network.loadingFinished.encodedDataLength` (bytes received for the request, headers
	 * included, before decompression); the WebSocket's frames are not requests and are not counted.
	 */
	async wireCounter(context: BrowserContext, tab: Page): Promise<{ stop(): Promise<WireBytes> }> {
		const cdp = await context.newCDPSession(tab);
		const types = new Map<string, { type: string; encoded: boolean }>();
		let totalBytes = 0;
		let scriptBytes = 0;
		let encodedResponses = 0;
		let responses = 0;
		cdp.on("Network.responseReceived", (e) => {
			const headers = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
			types.set(e.requestId, { type: e.type, encoded: Boolean(headers["content-encoding"]) });
		});
		cdp.on("Network.loadingFinished", (e) => {
			const info = types.get(e.requestId);
			totalBytes += e.encodedDataLength;
			responses += 1;
			if (info?.type === "Script") scriptBytes += e.encodedDataLength;
			if (info?.encoded) encodedResponses += 1;
		});
		await cdp.send("Network.enable");
		return {
			async stop() {
				await cdp.detach();
				return { totalBytes, scriptBytes, encodedResponses, responses };
			},
		};
	}

	/** One cold load (fresh context) then one warm load (second navigation in it). */
	async load(page: PageName, sessionId: string, collectJs?: Set<string>): Promise<LoadRun> {
		const context = await this.context(page);
		try {
			const tab = await context.newPage();
			const wire = collectJs ? await this.wireCounter(context, tab) : undefined;
			const onResponse = (response: import("playwright-core").Response) => {
				const type = response.request().resourceType();
				if (collectJs && type === "script" && response.status() === 200)
					collectJs.add(new URL(response.url()).pathname);
			};
			tab.on("response", onResponse);
			const { ready: cold, socket: coldSocket } = await this.openReady(tab, this.url(page, sessionId));
			tab.off("response", onResponse);
			const coldWire = await wire?.stop();
			// Let Tandem's service worker register (it waits until the page has started) and finish
			// installing (precaching the shell) before the warm load. The minimal page has none.
			if (page === "tandem") await tab.evaluate(async () => void (await navigator.serviceWorker.ready));
			const { ready: warm, socket: warmSocket } = await this.openReady(tab, this.url(page, sessionId));
			const warmFromServiceWorker = await tab.evaluate(() => Boolean(navigator.serviceWorker?.controller));
			return { page, ...(coldWire ? { coldWire } : {}), cold, warm, coldSocket, warmSocket, warmFromServiceWorker };
		} finally {
			await context.close();
		}
	}

	bundle(page: PageName, files: Set<string>): BundleResult {
		let rawBytes = 0;
		let gzipBytes = 0;
		const sorted = [...files].sort();
		for (const file of sorted) {
			const bytes = readFileSync(path.join(this.dist, decodeURIComponent(file)));
			rawBytes += bytes.length;
			gzipBytes += gzipSync(bytes, { level: 9 }).length;
		}
		return { page, files: sorted, rawBytes, gzipBytes };
	}

	/**
	 * Type `keys` at the end of the big document, one key at a time, and record for each the
	 * time from the keydown listener (capture phase, first to run) to the end of the next
	 * rendered frame: a message posted from the frame's requestAnimationFrame arrives after
	 * the frame's other rAF callbacks (CodeMirror's measure), style, layout and paint.
	 */
	async typing(page: PageName, sessionId: string, keys: string, seed: HocuspocusProvider): Promise<TypingResult> {
		const context = await this.context(page);
		try {
			const tab = await context.newPage();
			await this.openReady(tab, this.url(page, sessionId));
			const before = codeText(seed.document).toString();
			await tab.locator(".cm-content").click();
			await tab.keyboard.press("Control+End");
			await tab.evaluate(() => {
				window.__benchLatencies = [];
				window.addEventListener(
					"keydown",
					() => {
						const start = performance.now();
						requestAnimationFrame(() => {
							const channel = new MessageChannel();
							channel.port1.onmessage = () => window.__benchLatencies?.push(performance.now() - start);
							channel.port2.postMessage(0);
						});
					},
					true,
				);
			});
			let count = 0;
			for (const key of keys) {
				await tab.keyboard.press(key === "\n" ? "Enter" : key === " " ? "Space" : key);
				count += 1;
				await tab.waitForFunction((n) => (window.__benchLatencies?.length ?? 0) >= n, count, { polling: "raf" });
			}
			const latencies = ((await tab.evaluate(() => window.__benchLatencies)) ?? []).slice(WARMUP_KEYS);
			// The editor auto-indents after Enter in neither page (no language on the minimal page,
			// and the lines typed here are not indented), so the document grows by exactly `keys`.
			const expected = before + keys;
			const arrived = await waitUntil(() => codeText(seed.document).toString() === expected, 30_000);
			const sorted = latencies.sort((a, b) => a - b);
			return {
				page,
				samples: sorted.length,
				p50Ms: quantile(sorted, 0.5),
				p99Ms: quantile(sorted, 0.99),
				maxMs: sorted.at(-1) ?? 0,
				arrived,
			};
		} finally {
			await context.close();
		}
	}
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) return false;
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	return true;
}

/** Connect a Node client to the session and put `code` after its text in one transaction. */
async function seedClient(serverUrl: string, sessionId: string, token: string, code: string) {
	const provider = new HocuspocusProvider({
		url: `${serverUrl.replace(/^http/, "ws")}/collab/${sessionId}`,
		name: sessionId,
		token,
		WebSocketPolyfill: WebSocket,
	} as ConstructorParameters<typeof HocuspocusProvider>[0]);
	if (!(await waitUntil(() => provider.isSynced, 30_000))) throw new Error("seed client did not sync");
	const text = codeText(provider.document);
	provider.document.transact(() => text.insert(text.length, code));
	if (!(await waitUntil(() => !provider.hasUnsyncedChanges, 60_000))) throw new Error("seed was not acknowledged");
	return provider;
}

function median(values: readonly number[]): number {
	return quantile(
		[...values].sort((a, b) => a - b),
		0.5,
	);
}

function ratio(tandem: number, minimal: number): string {
	return minimal > 0 ? `${fmt(tandem / minimal, 2)}×` : "n/a";
}

export default async function run(opts: { smoke: boolean }): Promise<{
	title: string;
	markdown: string;
	checks: EditorChecks;
}> {
	const loadRuns = opts.smoke ? 1 : 7;
	const typedKeys = opts.smoke ? WARMUP_KEYS + 20 : WARMUP_KEYS + 400;
	const dist = await buildEditor();
	await buildEditorBaseline(dist);
	const server = await startSyncServer({ editorDist: dist });
	let browser: Browser | null = null;
	const seeds: HocuspocusProvider[] = [];
	try {
		browser = await launchChromium();
		const account = await registerAccount(server.url, "bench");
		const bench = new Bench(server, browser, account, dist);
		const smallSession = await createSession(server.url, account.token, { language: "python", code: SMALL_CODE });
		// A collaborator stays in the session, so the server keeps the document loaded between
		// runs: a page closing would otherwise make the server store and unload it, and the next
		// page would wait for that instead of measuring itself.
		seeds.push(await seedClient(server.url, smallSession, account.token, ""));

		const loads: LoadRun[] = [];
		const js = new Map<PageName, Set<string>>(PAGES.map((p) => [p, new Set<string>()]));
		for (let i = 0; i < loadRuns; i++) {
			// Alternate the pages so drift in the machine's load hits both alike.
			for (const page of PAGES) loads.push(await bench.load(page, smallSession, i === 0 ? js.get(page) : undefined));
		}
		const bundles = PAGES.map((p) => bench.bundle(p, js.get(p) ?? new Set()));

		const bigSession = await createSession(server.url, account.token, { language: "python" });
		const big = bigDocument();
		const seed = await seedClient(server.url, bigSession, account.token, big);
		seeds.push(seed);
		const keys = keystrokes(typedKeys);
		const typing: TypingResult[] = [];
		for (const page of PAGES) typing.push(await bench.typing(page, bigSession, keys, seed));

		const checks: EditorChecks = { bundles, loads, typing, bigDocChars: big.length };
		return { title: "Editor page: JavaScript, load time, typing latency", markdown: render(checks, opts), checks };
	} finally {
		for (const seed of seeds) seed.destroy();
		await browser?.close();
		await server.stop();
	}
}

function render(checks: EditorChecks, opts: { smoke: boolean }): string {
	const bundle = (p: PageName) => checks.bundles.find((b) => b.page === p);
	const loadsOf = (p: PageName) => checks.loads.filter((l) => l.page === p);
	const typingOf = (p: PageName) => checks.typing.find((t) => t.page === p);
	const t = { bundle: bundle("tandem"), loads: loadsOf("tandem"), typing: typingOf("tandem") };
	const m = { bundle: bundle("minimal"), loads: loadsOf("minimal"), typing: typingOf("minimal") };
	const coldT = median(t.loads.map((l) => l.cold));
	const coldM = median(m.loads.map((l) => l.cold));
	const warmT = median(t.loads.map((l) => l.warm));
	const warmM = median(m.loads.map((l) => l.warm));
	const warmSource = (loads: readonly LoadRun[]) =>
		loads.every((l) => l.warmFromServiceWorker)
			? "service worker"
			: loads.some((l) => l.warmFromServiceWorker)
				? "mixed"
				: "HTTP cache";
	return [
		`Both pages are built by Vite (production, target es2022, default minifier), served by one sync-server (embedded PGlite) and opened on the same session in headless Chromium (1280×800). The minimal page (bench/editor-baseline) is CodeMirror 6 + y-codemirror.next + @hocuspocus/provider with only the default keymap and y-codemirror's undo; Tandem's is its real /s/{id} route.${opts.smoke ? " **Smoke run: one load and 20 keystrokes per page; not a measurement.**" : ""}`,
		"",
		"**JavaScript to an editable editor**: every script response (status 200) received until the page was ready in the first cold load, each file gzipped at level 9 and summed. *On the wire*: what Chromium received over the network in that cold load until ready (DevTools Protocol `Network.loadingFinished.encodedDataLength`: headers and body as sent, before decompression; the WebSocket not included), for scripts and for every response (page, scripts, styles, manifest, icons), with how many of the responses came compressed.",
		"",
		table(
			[
				"page",
				"files",
				"minified",
				"gzipped",
				"vs minimal",
				"JS on the wire",
				"all on the wire",
				"compressed responses",
			],
			[t, m].map((x) => {
				const b = x.bundle;
				const wire = x.loads.find((l) => l.coldWire)?.coldWire;
				return [
					b?.page ?? "?",
					String(b?.files.length ?? 0),
					fmtBytes(b?.rawBytes ?? 0),
					fmtBytes(b?.gzipBytes ?? 0),
					ratio(b?.gzipBytes ?? 0, m.bundle?.gzipBytes ?? 0),
					wire ? fmtBytes(wire.scriptBytes) : "?",
					wire ? fmtBytes(wire.totalBytes) : "?",
					wire ? `${wire.encodedResponses} of ${wire.responses}` : "?",
				];
			}),
		),
		"",
		`**Navigation → editable, synced editor** (median of ${t.loads.length} runs each, ms since navigation start). *Ready* means: \`.cm-content\` has contenteditable="true", its first line shows the text seeded on the server, and the connection badge reads "Live" (the provider reported synced). Detected by a MutationObserver injected before any page script, which also notes when the page constructs its WebSocket (*socket made at*, median): everything before it is the page's own start-up, everything after is connecting, authenticating and syncing. *Cold*: fresh browser context, empty cache, no service worker. *Warm*: a second navigation in the same context, after Tandem's service worker (if registered) is active.`,
		"",
		table(
			[
				"page",
				"cold p50 (ms)",
				"cold min–max",
				"cold: socket made at",
				"warm p50 (ms)",
				"warm min–max",
				"warm: socket made at",
				"warm served from",
			],
			[t, m].map((x) => {
				const cold = x.loads.map((l) => l.cold);
				const warm = x.loads.map((l) => l.warm);
				return [
					x.loads[0]?.page ?? "?",
					fmt(median(cold)),
					`${fmt(Math.min(...cold))}–${fmt(Math.max(...cold))}`,
					fmt(median(x.loads.map((l) => l.coldSocket))),
					fmt(median(warm)),
					`${fmt(Math.min(...warm))}–${fmt(Math.max(...warm))}`,
					fmt(median(x.loads.map((l) => l.warmSocket))),
					warmSource(x.loads),
				];
			}),
		),
		"",
		table(
			["ratio tandem / minimal", "value", "goal"],
			[
				["JS gzipped", ratio(t.bundle?.gzipBytes ?? 0, m.bundle?.gzipBytes ?? 0), "≤ 1.2×"],
				["cold load", ratio(coldT, coldM), "≤ 1.2×"],
				["warm load", ratio(warmT, warmM), "≤ 1.2×"],
				["typing p50", ratio(t.typing?.p50Ms ?? 0, m.typing?.p50Ms ?? 0), "≤ 1.2×"],
				["typing p99", ratio(t.typing?.p99Ms ?? 0, m.typing?.p99Ms ?? 0), "≤ 1.2×"],
			],
		),
		"",
		`**Typing latency in a ${fmtBytes(checks.bigDocChars)} document** (${fmt(checks.bigDocChars / 1_000_000, 2)} M characters of Python, seeded by a Node client that stays connected). Keys are pressed one at a time at the end of the document through Chromium's input pipeline; each is timed from a capture-phase keydown listener to the end of the next rendered frame (a message posted from a requestAnimationFrame callback, so CodeMirror's own measure pass, style, layout and paint are inside). The first ${WARMUP_KEYS} keys are not counted. *Arrived*: the Node client's text equals the document plus exactly the keys typed.`,
		"",
		table(
			["page", "keys", "p50 (ms)", "p99 (ms)", "max (ms)", "arrived"],
			[t.typing, m.typing].map((x) => [
				x?.page ?? "?",
				String(x?.samples ?? 0),
				fmt(x?.p50Ms ?? 0, 2),
				fmt(x?.p99Ms ?? 0, 2),
				fmt(x?.maxMs ?? 0, 2),
				x?.arrived ? "yes" : "NO",
			]),
		),
	].join("\n");
}
