import { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";
import { Server } from "@hocuspocus/server";
import * as encoding from "lib0/encoding";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { readIceConfig } from "../src/call/iceConfig.ts";
import { SignallingExtension } from "../src/call/SignallingExtension.ts";

// A bare Hocuspocus with the signalling extension and a token table standing in for the
// real auth extension: "alice" and "bob" are participants of SESSION, "mallory" only of OTHER.
const SESSION = "callSession0000000000001";
const OTHER = "callSession0000000000002";
const users: Record<string, { id: string; username: string; docs: string[] }> = {
	alice: { id: "u-alice", username: "alice", docs: [SESSION] },
	bob: { id: "u-bob", username: "bob", docs: [SESSION] },
	carol: { id: "u-carol", username: "carol", docs: [SESSION] },
	mallory: { id: "u-mallory", username: "mallory", docs: [OTHER] },
};

const BURST = 20;
let server: Server;
let url: string;
const cleanup: Array<() => void> = [];

beforeAll(async () => {
	server = new Server({
		port: 0,
		address: "127.0.0.1",
		quiet: true,
		extensions: [
			new SignallingExtension({
				ice: readIceConfig({ TURN_URLS: "turn:turn.example.org:3478", TURN_SECRET: "0123456789abcdef0123" }),
				burst: BURST,
				refillPerSecond: 1,
			}),
		],
		async onAuthenticate({ token, documentName }) {
			const user = users[token];
			if (!user || !user.docs.includes(documentName)) throw new Error("Forbidden");
			return { user: { id: user.id, username: user.username } };
		},
	});
	await server.listen();
	url = `ws://127.0.0.1:${server.address.port}`;
});

afterAll(async () => {
	for (const fn of cleanup) fn();
	await server.destroy();
});

interface Client {
	provider: HocuspocusProvider;
	received: Array<Record<string, unknown>>;
	send: (msg: unknown) => void;
}

async function connect(token: string, name = SESSION, expectAuth = true): Promise<Client> {
	const received: Array<Record<string, unknown>> = [];
	const provider = new HocuspocusProvider({
		url,
		name,
		token,
		onStateless: ({ payload }) => received.push(JSON.parse(payload)),
	});
	cleanup.push(() => provider.destroy());
	if (expectAuth) {
		await new Promise<void>((resolve, reject) => {
			provider.on("synced", () => resolve());
			provider.on("authenticationFailed", () => reject(new Error(`${token} refused`)));
		});
	}
	return { provider, received, send: (msg) => provider.sendStateless(JSON.stringify(msg)) };
}

async function join(client: Client): Promise<string> {
	client.send({ type: "call", kind: "join", muted: false, camera: true });
	await vi.waitFor(() => expect(client.received.some((m) => m.kind === "welcome")).toBe(true));
	return client.received.find((m) => m.kind === "welcome")?.peer as string;
}

describe("call signalling", () => {
	it("forwards a participant's signal to the others in the call stamped with the sender's authenticated identity", async () => {
		const alice = await connect("alice");
		const bob = await connect("bob");
		// Only peers in the call hear it (RELIABILITY 47): bob joins first, then hears alice join.
		const bobPeer = await join(bob);
		const alicePeer = await join(alice);
		await vi.waitFor(() => expect(bob.received.some((m) => m.kind === "join")).toBe(true));
		expect(bob.received.find((m) => m.kind === "join")?.from).toEqual({
			peer: alicePeer,
			userId: "u-alice",
			name: "alice",
		});
		bob.send({
			type: "call",
			kind: "description",
			to: alicePeer,
			description: { type: "offer", sdp: "v=0\r\n" },
		});
		await vi.waitFor(() => expect(alice.received.some((m) => m.kind === "description")).toBe(true));
		const offer = alice.received.find((m) => m.kind === "description");
		expect(offer).toMatchObject({ to: alicePeer, from: { peer: bobPeer, userId: "u-bob", name: "bob" } });
		// The sender does not get its own signal back.
		expect(bob.received.some((m) => m.kind === "description")).toBe(false);
	});

	it("refuses a client-claimed identity instead of forwarding it", async () => {
		const alice = await connect("alice");
		const bob = await connect("bob");
		await join(alice);
		const before = alice.received.length;
		bob.send({
			type: "call",
			kind: "join",
			muted: false,
			camera: true,
			from: { peer: "x", userId: "u-alice", name: "alice" },
		});
		await vi.waitFor(() => expect(bob.received.some((m) => m.kind === "error" && m.code === "invalid")).toBe(true));
		// A valid join afterwards is stamped as bob, not whoever he claimed to be.
		await join(bob);
		await vi.waitFor(() =>
			expect(alice.received.slice(before).find((m) => m.kind === "join")?.from).toMatchObject({ userId: "u-bob" }),
		);
		expect(alice.received.slice(before).filter((m) => m.kind === "join")).toHaveLength(1);
	});

	it("serves time-limited TURN credentials in the welcome", async () => {
		const alice = await connect("alice");
		alice.send({ type: "call", kind: "join", muted: true, camera: false });
		await vi.waitFor(() => expect(alice.received.some((m) => m.kind === "welcome")).toBe(true));
		const welcome = alice.received.find((m) => m.kind === "welcome") as { iceServers: Array<Record<string, unknown>> };
		expect(welcome.iceServers).toHaveLength(1);
		expect(welcome.iceServers[0]?.urls).toEqual(["turn:turn.example.org:3478"]);
		expect(String(welcome.iceServers[0]?.username)).toMatch(/^\d+:u-alice$/);
		expect(typeof welcome.iceServers[0]?.credential).toBe("string");
	});

	it("rejects signals before joining and malformed signals", async () => {
		const alice = await connect("alice");
		const bob = await connect("bob");
		await join(bob);
		alice.send({ type: "call", kind: "state", muted: true, camera: false });
		await vi.waitFor(() => expect(alice.received.some((m) => m.code === "not_joined")).toBe(true));
		await join(alice);
		alice.send({ type: "call", kind: "description", to: "p", description: { type: "bogus", sdp: 1 } });
		await vi.waitFor(() => expect(alice.received.some((m) => m.code === "invalid")).toBe(true));
		expect(bob.received.some((m) => m.kind === "state" || m.kind === "description")).toBe(false);
	});

	it("drops an oversize signal and closes that connection", async () => {
		const alice = await connect("alice");
		const bob = await connect("bob");
		const bobPeer = await join(bob);
		const alicePeer = await join(alice);
		const closed = new Promise<void>((resolve) => alice.provider.on("close", () => resolve()));
		alice.send({
			type: "call",
			kind: "description",
			to: bobPeer,
			description: { type: "offer", sdp: "a".repeat(70 * 1024) },
		});
		await vi.waitFor(() => expect(alice.received.some((m) => m.code === "too_large")).toBe(true));
		// The server tells the others this peer left, and the oversize offer never reaches them.
		await vi.waitFor(() =>
			expect(bob.received.some((m) => m.kind === "leave" && (m.from as { peer: string }).peer === alicePeer)).toBe(
				true,
			),
		);
		expect(bob.received.some((m) => m.kind === "description")).toBe(false);
		await closed;
	});

	it("drops signals over the rate and closes a connection that keeps flooding", async () => {
		const alice = await connect("alice");
		const bob = await connect("bob");
		const bobPeer = await join(bob);
		await join(alice);
		const closed = new Promise<void>((resolve) => alice.provider.on("close", () => resolve()));
		const candidate = { candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host", sdpMid: "0", sdpMLineIndex: 0 };
		// One token went to the join; refill is 1/s, so far fewer than 3*BURST get through.
		for (let i = 0; i < 3 * BURST; i++) alice.send({ type: "call", kind: "candidate", to: bobPeer, candidate });
		await vi.waitFor(() => expect(alice.received.some((m) => m.code === "rate_limited")).toBe(true));
		await closed;
		const forwarded = bob.received.filter((m) => m.kind === "candidate").length;
		expect(forwarded).toBeGreaterThan(0);
		expect(forwarded).toBeLessThan(BURST + 5);
		// One error reply per streak of drops, not one per dropped message.
		expect(alice.received.filter((m) => m.code === "rate_limited")).toHaveLength(1);
	});

	it("lets a non-participant neither receive nor send signalling for the session", async () => {
		const alice = await connect("alice");
		await join(alice);
		const before = alice.received.length;

		// Mallory is authenticated on one socket for her own session and refused for this one.
		const socket = new HocuspocusProviderWebsocket({ url });
		cleanup.push(() => socket.destroy());
		const ownReceived: string[] = [];
		const own = new HocuspocusProvider({
			websocketProvider: socket,
			name: OTHER,
			token: "mallory",
			onStateless: ({ payload }) => ownReceived.push(payload),
		});
		cleanup.push(() => own.destroy());
		const ownSynced = new Promise<void>((resolve) => own.on("synced", () => resolve()));
		own.attach();
		await ownSynced;
		const malloryReceived: string[] = [];
		const intruder = new HocuspocusProvider({
			websocketProvider: socket,
			name: SESSION,
			token: "mallory",
			onStateless: ({ payload }) => malloryReceived.push(payload),
		});
		cleanup.push(() => intruder.destroy());
		const refused = new Promise<void>((resolve) => intruder.on("authenticationFailed", () => resolve()));
		intruder.attach();
		await refused;

		// Raw stateless frames addressed to the session, on her authenticated socket.
		for (const kind of ["join", "state"]) {
			const encoder = encoding.createEncoder();
			encoding.writeVarString(encoder, SESSION);
			encoding.writeVarUint(encoder, 5); // MessageType.Stateless
			encoding.writeVarString(encoder, JSON.stringify({ type: "call", kind, muted: false, camera: true }));
			socket.send(encoding.toUint8Array(encoder));
		}
		// And through her own session's connection: it only reaches her own session.
		own.sendStateless(JSON.stringify({ type: "call", kind: "join", muted: false, camera: true }));
		// The socket stayed open and served her own session, so the frames above were really sent.
		await vi.waitFor(() => expect(ownReceived.some((p) => p.includes('"welcome"'))).toBe(true));

		// Bob joins after her attempts; once alice sees his join, anything of mallory's would have arrived.
		const bob = await connect("bob");
		await join(bob);
		await vi.waitFor(() => expect(alice.received.slice(before).some((m) => m.kind === "join")).toBe(true));
		const joins = alice.received.slice(before).filter((m) => m.kind === "join");
		expect(joins.map((m) => (m.from as { userId: string }).userId)).toEqual(["u-bob"]);
		expect(alice.received.some((m) => (m.from as { userId?: string } | undefined)?.userId === "u-mallory")).toBe(false);
		// Mallory heard nothing of the session's call.
		expect(malloryReceived.some((p) => p.includes("u-alice") || p.includes("u-bob"))).toBe(false);
	});

	it("announces a leave to the others when a joined peer disconnects", async () => {
		const alice = await connect("alice");
		const carol = await connect("carol");
		await join(alice);
		const carolPeer = await join(carol);
		carol.provider.destroy();
		await vi.waitFor(() =>
			expect(alice.received.some((m) => m.kind === "leave" && (m.from as { peer: string }).peer === carolPeer)).toBe(
				true,
			),
		);
	});
});
