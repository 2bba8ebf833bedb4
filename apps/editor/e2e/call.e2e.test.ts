import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
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

const FAKE_MEDIA = "--use-fake-device-for-media-stream";
const MEDIA_ARGS = [FAKE_MEDIA, "--use-fake-ui-for-media-stream"];

// Records every RTCPeerConnection (to read getStats) and WebSocket (to cut the connection) the page makes.
const RECORD_PEER_CONNECTIONS = () => {
	const NativeSocket = window.WebSocket;
	const sockets: WebSocket[] = [];
	(window as unknown as { __sockets: WebSocket[] }).__sockets = sockets;
	window.WebSocket = class extends NativeSocket {
		constructor(url: string | URL, protocols?: string | string[]) {
			super(url, protocols);
			sockets.push(this);
		}
	} as typeof WebSocket;
	const Native = window.RTCPeerConnection;
	const all: RTCPeerConnection[] = [];
	(window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = all;
	window.RTCPeerConnection = class extends Native {
		constructor(config?: RTCConfiguration) {
			super(config);
			all.push(this);
		}
	} as typeof RTCPeerConnection;
};

let server: RunningServer;
let baseUrl: string;
let browser: Browser;
let deviceless: Browser | undefined;
let sessionId: string;
const tokens = new Map<string, RegisteredAccount>();
const contexts: BrowserContext[] = [];

beforeAll(async () => {
	// The real editor served by the real sync-server at / and /s/{id}.
	server = await startSyncServer({ editorDist: await buildEditor() });
	baseUrl = server.url;
	for (const name of ["alice", "bob", "carol", "dave"]) tokens.set(name, await registerAccount(baseUrl, name));
	const owner = tokens.get("alice")?.token ?? "";
	sessionId = await createSession(baseUrl, owner, { title: "call", language: "python" });
	for (const name of ["bob", "carol", "dave"])
		await inviteUser(baseUrl, owner, sessionId, tokens.get(name)?.username ?? "");
	browser = await launchChromium(MEDIA_ARGS);
});

afterAll(async () => {
	for (const c of contexts) await c.close().catch(() => {});
	await browser?.close();
	await deviceless?.close();
	await server?.stop();
});

async function openParticipant(name: string, inBrowser: Browser = browser): Promise<Page> {
	const context = await inBrowser.newContext();
	contexts.push(context);
	await context.grantPermissions(["camera", "microphone"], { origin: baseUrl });
	const page = await context.newPage();
	await page.addInitScript(RECORD_PEER_CONNECTIONS);
	// Signed in as the editor keeps it (the cookie POST /register sets, the profile its sign-up page stores).
	const user = tokens.get(name);
	if (user) await signInContext(context, baseUrl, user);
	await page.addInitScript(
		(auth) => localStorage.setItem("tandem.auth", auth),
		JSON.stringify({ user: { id: user?.id, username: user?.username } }),
	);
	await page.goto(`${baseUrl}/s/${sessionId}`);
	await page.locator(".cm-content").waitFor();
	await page.getByRole("button", { name: "Join call" }).click();
	await page.getByRole("button", { name: "Leave" }).waitFor();
	return page;
}

/** Per remote tile: video size, current time and decoded frames. */
async function remoteVideos(page: Page) {
	return page.$$eval(".tc-tile", (tiles) =>
		tiles
			.filter((t) => !(t.querySelector("video") as HTMLVideoElement).muted)
			.map((t) => {
				const v = t.querySelector("video") as HTMLVideoElement;
				return {
					name: t.querySelector(".tc-name")?.textContent ?? "",
					width: v.videoWidth,
					time: v.currentTime,
					frames: v.getVideoPlaybackQuality().totalVideoFrames,
					// For failure messages: what the element and its stream are doing.
					detail: {
						paused: v.paused,
						readyState: v.readyState,
						tracks: ((v.srcObject as MediaStream | null)?.getTracks() ?? []).map(
							(t) => `${t.kind}:${t.readyState}:${t.muted ? "muted" : "live"}`,
						),
						pcs: (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.map(
							(pc) =>
								`${pc.connectionState}/${pc.signalingState}/${pc.iceConnectionState}/${pc
									.getTransceivers()
									.map((t) => `${t.mid}:${t.direction}:${t.currentDirection}`)
									.join(",")}`,
						),
					},
				};
			}),
	);
}

/** Sums RTP byte counters over all of the page's peer connections. */
async function rtpBytes(page: Page) {
	return page.evaluate(async () => {
		const totals = { audioIn: 0, audioOut: 0, videoIn: 0, videoOut: 0 };
		for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
			if (pc.connectionState === "closed") continue;
			for (const s of (await pc.getStats()).values()) {
				if (s.type === "inbound-rtp" && s.kind === "audio") totals.audioIn += s.bytesReceived ?? 0;
				if (s.type === "inbound-rtp" && s.kind === "video") totals.videoIn += s.bytesReceived ?? 0;
				if (s.type === "outbound-rtp" && s.kind === "audio") totals.audioOut += s.bytesSent ?? 0;
				if (s.type === "outbound-rtp" && s.kind === "video") totals.videoOut += s.bytesSent ?? 0;
			}
		}
		return totals;
	});
}

async function expectPlayingEveryone(page: Page, others: string[]) {
	await vi.waitFor(
		async () => {
			const videos = await remoteVideos(page);
			// Tiles carry the server-stamped account names.
			expect(videos.map((v) => v.name).sort()).toEqual(others.map((o) => tokens.get(o)?.username).sort());
			for (const v of videos) {
				expect(v.width, JSON.stringify(v)).toBeGreaterThan(0);
				expect(v.frames, JSON.stringify(v)).toBeGreaterThan(0);
			}
		},
		{ timeout: 30_000, interval: 250 },
	);
	const before = await remoteVideos(page);
	const audioBefore = (await rtpBytes(page)).audioIn;
	await vi.waitFor(
		async () => {
			const after = await remoteVideos(page);
			for (const v of after) {
				const b = before.find((x) => x.name === v.name);
				expect(v.time).toBeGreaterThan(b?.time ?? 0);
				expect(v.frames).toBeGreaterThan(b?.frames ?? 0);
			}
			expect((await rtpBytes(page)).audioIn).toBeGreaterThan(audioBefore);
		},
		{ timeout: 15_000, interval: 250 },
	);
}

/** Retries `check` until it passes (bounded, so a failure is reported rather than hanging). */
function eventually(check: () => Promise<void>) {
	return vi.waitFor(check, { timeout: 20_000, interval: 100 });
}

/** Waits until `key` stops rising between two samples (a fixed sampling gap, no timing assertion). */
async function expectStopsRising(page: Page, key: "audioOut" | "videoOut") {
	await vi.waitFor(
		async () => {
			const a = (await rtpBytes(page))[key];
			await new Promise((r) => setTimeout(r, 1500));
			const b = (await rtpBytes(page))[key];
			expect(b).toBe(a);
		},
		{ timeout: 20_000, interval: 100 },
	);
}

describe("calls in a session", () => {
	let alice: Page;
	let bob: Page;
	let carol: Page;

	it("two people see and hear each other", async () => {
		alice = await openParticipant("alice");
		bob = await openParticipant("bob");
		await expectPlayingEveryone(alice, ["bob"]);
		await expectPlayingEveryone(bob, ["alice"]);
	});

	it("a third person joins and everyone sees and hears everyone", async () => {
		carol = await openParticipant("carol");
		await expectPlayingEveryone(carol, ["alice", "bob"]);
		await expectPlayingEveryone(alice, ["bob", "carol"]);
		await expectPlayingEveryone(bob, ["alice", "carol"]);
	});

	it("lays the tiles out beside the code, never over it", async () => {
		for (const page of [alice, bob, carol]) {
			const code = await page.locator(".cm-editor").boundingBox();
			const tiles = await page.locator(".tc-tiles").boundingBox();
			expect(code && tiles).toBeTruthy();
			if (!code || !tiles) return;
			const overlapX = Math.min(code.x + code.width, tiles.x + tiles.width) - Math.max(code.x, tiles.x);
			const overlapY = Math.min(code.y + code.height, tiles.y + tiles.height) - Math.max(code.y, tiles.y);
			expect(overlapX <= 0 || overlapY <= 0, JSON.stringify({ code, tiles })).toBe(true);
		}
	});

	it("fits a phone screen without horizontal scrolling, and the video strip collapses", async () => {
		await carol.setViewportSize({ width: 390, height: 844 });
		const overflow = await carol.evaluate(
			() => document.documentElement.scrollWidth - document.documentElement.clientWidth,
		);
		expect(overflow).toBeLessThanOrEqual(0);
		await carol.getByRole("button", { name: "Hide video" }).click();
		expect(await carol.locator(".tc-tiles").isVisible()).toBe(false);
		await carol.getByRole("button", { name: "Show video" }).click();
		expect(await carol.locator(".tc-tiles").isVisible()).toBe(true);
		await carol.setViewportSize({ width: 1280, height: 720 });
	});

	it("shows who is speaking from each remote stream's audio", async () => {
		// Chromium's fake microphone beeps periodically; the analyser must notice.
		await vi.waitFor(
			async () => expect(await alice.locator(".tc-tile[data-speaking='true']", { hasText: "bob" }).count()).toBe(1),
			{ timeout: 20_000, interval: 50 },
		);
	});

	it("Mute stops outgoing audio and shows muted to the others", async () => {
		await alice.getByRole("button", { name: "Mute" }).click();
		await alice.getByRole("button", { name: "Unmute" }).waitFor();
		await expectStopsRising(alice, "audioOut");
		await eventually(async () => {
			expect(await bob.locator(".tc-tile", { hasText: "alice" }).getAttribute("data-muted")).toBe("true");
		});
		// Her own tile says so too.
		expect(await alice.locator(".tc-tile", { hasText: "(you)" }).locator(".tc-state").textContent()).toContain("Muted");
		await alice.getByRole("button", { name: "Unmute" }).click();
		const before = (await rtpBytes(alice)).audioOut;
		await vi.waitFor(async () => expect((await rtpBytes(alice)).audioOut).toBeGreaterThan(before), { timeout: 15_000 });
	});

	it("Camera off stops outgoing video and shows camera off to the others", async () => {
		await bob.getByRole("button", { name: "Camera off" }).click();
		await bob.getByRole("button", { name: "Camera on" }).waitFor();
		await expectStopsRising(bob, "videoOut");
		await eventually(async () => {
			expect(await carol.locator(".tc-tile", { hasText: "bob" }).getAttribute("data-camera")).toBe("false");
		});
		await bob.getByRole("button", { name: "Camera on" }).click();
		const before = (await rtpBytes(bob)).videoOut;
		await vi.waitFor(async () => expect((await rtpBytes(bob)).videoOut).toBeGreaterThan(before), { timeout: 15_000 });
	});

	it("leaving removes the tile for the others", async () => {
		await carol.getByRole("button", { name: "Leave" }).click();
		await carol.getByRole("button", { name: "Join call" }).waitFor();
		for (const page of [alice, bob]) {
			await eventually(async () => expect(await page.locator(".tc-tile", { hasText: "carol" }).count()).toBe(0));
		}
		expect(await carol.locator(".tc-tile").count()).toBe(0);
	});

	it("a dropped connection rejoins: the others keep exactly one playing tile for that person", async () => {
		const aliceTile = bob.locator(".tc-tile", { hasText: tokens.get("alice")?.username ?? "" });
		const peerBefore = await aliceTile.getAttribute("data-peer");
		await alice.evaluate(() => {
			for (const s of (window as unknown as { __sockets: WebSocket[] }).__sockets) s.close();
		});
		// The server minted a new peer id for the new connection, and bob renegotiated with it.
		await eventually(async () => {
			const now = await aliceTile.getAttribute("data-peer");
			expect(now).not.toBeNull();
			expect(now).not.toBe(peerBefore);
		});
		await expectPlayingEveryone(alice, ["bob"]);
		await expectPlayingEveryone(bob, ["alice"]);
		// One tile of her own and one of bob's: nothing left over from before the drop.
		expect(await alice.locator(".tc-tile").count()).toBe(2);
	});

	it("a reload rejoins: the others keep exactly one playing tile for that person", async () => {
		await bob.reload();
		await bob.getByRole("button", { name: "Join call" }).click();
		await expectPlayingEveryone(bob, ["alice"]);
		await expectPlayingEveryone(alice, ["bob"]);
	});

	it("without any microphone or camera a person joins listen-only, says why, and still sees and hears the others", async () => {
		// A browser without fake devices: this machine has no camera or microphone at all.
		deviceless = await launchChromium(MEDIA_ARGS.filter((a) => a !== FAKE_MEDIA));
		const dave = await openParticipant("dave", deviceless);
		await eventually(async () => expect(await dave.locator(".tc-message").textContent()).toMatch(/listening only/));
		await expectPlayingEveryone(dave, ["alice", "bob"]);
		await eventually(async () => {
			const tile = alice.locator(".tc-tile", { hasText: tokens.get("dave")?.username ?? "" });
			expect(await tile.getAttribute("data-muted")).toBe("true");
			expect(await tile.getAttribute("data-camera")).toBe("false");
		});
	});
});
