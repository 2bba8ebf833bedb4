import { HocuspocusProviderWebsocket } from "@hocuspocus/provider";
import { readCode } from "@tandem/crdt-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChildServer } from "./support/childServer.ts";
import { type Cluster, startCluster } from "./support/cluster.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { expectEverywhereOnce } from "./support/faultChecks.ts";
import { startTcpProxy, type TcpProxy } from "./support/tcpProxy.ts";
import { createSession, registerUser } from "./support/testServer.ts";
import { holdsAll, Typist, within } from "./support/typists.ts";

// RELIABILITY 36 with a TCP proxy (support/tcpProxy.ts) between one client and the server.
// TCP hides packet loss as retransmission delay, so loss shows up here as latency with jitter.
// Timeouts are shortened for the test: the server closes a socket silent for COLLAB_TIMEOUT_MS
// (45 s in production), the client one that received nothing for messageReconnectTimeout (30 s).
const SERVER_TIMEOUT_MS = 3000;
const CLIENT_TIMEOUT_MS = 2000;
const TYPE_EVERY_MS = 40;

let cluster: Cluster;
let node: ChildServer;
let proxy: TcpProxy;
const sockets: HocuspocusProviderWebsocket[] = [];
const clients: CollabClient[] = [];
const typists: Typist[] = [];

beforeAll(async () => {
	cluster = await startCluster("network", {
		PERSIST_DEBOUNCE_MS: "200",
		PERSIST_MAX_DEBOUNCE_MS: "1000",
		COLLAB_TIMEOUT_MS: String(SERVER_TIMEOUT_MS),
	});
	node = await cluster.spawn();
	proxy = await startTcpProxy(() => Number(new URL(node.url).port));
}, 240_000);

afterAll(async () => {
	for (const t of typists) t.stop();
	for (const c of clients) c.destroy();
	for (const s of sockets) s.destroy();
	await proxy?.close();
	await cluster?.destroy();
}, 240_000);

async function savedNow(t: Typist): Promise<void> {
	const marker = t.type();
	await within(
		`${marker} saved`,
		() => t.acked().includes(marker),
		20_000,
		() => t.unacked(),
	);
}

describe("a bad network between client and server (RELIABILITY 36)", () => {
	it("RELIABILITY 36: latency, a stall, a half-open connection: both sides detect the dead socket, unsynced edits stay unsaved until acknowledged, nothing is lost when the network heals", async () => {
		const user = await registerUser(node.url, "network");
		const seed = "network\n";
		const sessionId = (await createSession(node.url, user.token, { code: seed })).id as string;

		const socket = new HocuspocusProviderWebsocket({
			url: proxy.wsUrl,
			delay: 50,
			minDelay: 20,
			maxDelay: 500,
			messageReconnectTimeout: CLIENT_TIMEOUT_MS,
		});
		sockets.push(socket);
		const farClient = await connectClient(proxy.wsUrl, sessionId, user.token, { socket });
		const nearClient = await connectClient(node.wsUrl, sessionId, user.token);
		clients.push(farClient, nearClient);
		farClient.provider.awareness?.setLocalStateField("user", { name: "far" });
		const far = new Typist("far", farClient).start(TYPE_EVERY_MS);
		const near = new Typist("near", nearClient).start(TYPE_EVERY_MS);
		typists.push(far, near);
		const farSeenByServer = () => nearClient.provider.awareness?.getStates().has(farClient.doc.clientID) === true;
		await within("the server relays the far client's presence", farSeenByServer);

		// Latency with jitter: edits still flow both ways and are saved.
		proxy.setLatency(60, 120);
		await savedNow(far);
		await within("near sees far's edits", () => holdsAll(readCode(nearClient.doc), far.acked()));

		// A short stall, shorter than either timeout: it resumes and carries on.
		proxy.stall();
		const stalled = far.type();
		await new Promise((r) => setTimeout(r, 500));
		expect(far.unacked()).toContain(stalled);
		proxy.resume();
		await savedNow(far);

		// Half-open: nothing passes either way and no side is told; new connections fail.
		proxy.setLatency(0);
		proxy.stall();
		proxy.setDown(true);
		const beforeDead = far.all().length;
		// The server closes the silent socket: the far client's presence goes away for others.
		await within("the server drops the half-open socket", () => !farSeenByServer());
		// The client notices too and retries (refused while the network is down).
		await within("the far client notices the dead socket", () => socket.status !== "connected");
		const unsynced = far.all().slice(beforeDead);
		expect(unsynced.length).toBeGreaterThan(0);
		// Typed while cut off: still unsaved, held by the far replica, nowhere else.
		for (const marker of unsynced) expect(far.unacked()).toContain(marker);
		expect(holdsAll(readCode(farClient.doc), unsynced)).toBe(true);
		const storedWhileDead = await cluster.storedCode(sessionId);
		expect(unsynced.some((m) => storedWhileDead.includes(m) || readCode(nearClient.doc).includes(m))).toBe(false);

		// The network heals: the stale connection is reset, new ones get through.
		proxy.cut();
		proxy.resume();
		proxy.setDown(false);
		await savedNow(far);
		for (const marker of unsynced) expect(far.acked()).toContain(marker);
		far.stop();
		near.stop();

		await expectEverywhereOnce({
			cluster,
			nodeUrl: node.url,
			wsUrl: node.wsUrl,
			sessionId,
			token: user.token,
			seed,
			replicas: [farClient, nearClient],
			mustHold: [...far.all(), ...near.all()],
		});
	}, 60_000);
});
