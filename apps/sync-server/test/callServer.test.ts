import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import {
	api,
	createSession,
	databaseUrl,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
	TEST_DATABASE_URL,
	TEST_REDIS_URL,
} from "./support/testServer.ts";

// Call signalling through the real server: real auth, real sessions, real providers.
const closers: Array<() => Promise<void> | void> = [];
afterAll(async () => {
	for (const close of closers.reverse()) await close();
});

type Signal = Record<string, unknown> & { from?: { peer: string; userId: string; name: string } };
const calls = (c: CollabClient): Signal[] =>
	c.stateless.map((p) => JSON.parse(p) as Signal).filter((m) => m.type === "call");
const send = (c: CollabClient, msg: Record<string, unknown>) =>
	c.provider.sendStateless(JSON.stringify({ type: "call", ...msg }));

async function join(c: CollabClient): Promise<string> {
	send(c, { kind: "join", muted: false, camera: true });
	await eventually(() => calls(c).some((m) => m.kind === "welcome"));
	return calls(c).find((m) => m.kind === "welcome")?.peer as string;
}

async function sessionWithTwo(base: string) {
	const owner = await registerUser(base, "callowner");
	const guest = await registerUser(base, "callguest");
	const stranger = await registerUser(base, "callstranger");
	const session = await createSession(base, owner.token, { title: "call" });
	const invited = await api(base, "POST", "/invite-user", {
		token: owner.token,
		body: { sessionId: session.id, username: guest.user.username },
	});
	expect([200, 201]).toContain(invited.status);
	return { owner, guest, stranger, sessionId: session.id as string };
}

describe("call signalling on the real server", () => {
	it("stamps the sender's account and keeps a non-participant out", async () => {
		const node = await startTestServer();
		closers.push(() => node.close());
		const { owner, guest, stranger, sessionId } = await sessionWithTwo(node.url);
		const alice = await connectClient(node.wsUrl, sessionId, owner.token);
		const bob = await connectClient(node.wsUrl, sessionId, guest.token);
		closers.push(
			() => alice.destroy(),
			() => bob.destroy(),
		);

		await expect(connectClient(node.wsUrl, sessionId, stranger.token)).rejects.toThrow(/authentication failed/);

		const alicePeer = await join(alice);
		const bobPeer = await join(bob);
		await eventually(() => calls(alice).some((m) => m.kind === "join"));
		expect(calls(alice).find((m) => m.kind === "join")?.from).toEqual({
			peer: bobPeer,
			userId: guest.user.id,
			name: guest.user.username,
		});
		send(bob, { kind: "description", to: alicePeer, description: { type: "offer", sdp: "v=0\r\n" } });
		await eventually(() => calls(alice).some((m) => m.kind === "description"));
		expect(calls(alice).find((m) => m.kind === "description")?.from?.userId).toBe(guest.user.id);
		// The "stored" messages of persistence still flow beside the call's.
		expect(alice.stateless.every((p) => typeof JSON.parse(p).type === "string")).toBe(true);
	});

	it("carries signals between participants on two nodes through Redis", async () => {
		const dbName = `tandem_call_${Math.random().toString(36).slice(2, 10)}`;
		const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
		await admin.unsafe(`CREATE DATABASE ${dbName}`);
		closers.push(async () => {
			await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
			await admin.end();
		});
		const env = { DATABASE_URL: databaseUrl(dbName), REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: dbName };
		const nodeA: RunningServer = await startTestServer(env);
		closers.push(() => nodeA.close());
		const nodeB: RunningServer = await startTestServer(env);
		closers.push(() => nodeB.close());

		const { owner, guest, sessionId } = await sessionWithTwo(nodeA.url);
		const alice = await connectClient(nodeA.wsUrl, sessionId, owner.token);
		const bob = await connectClient(nodeB.wsUrl, sessionId, guest.token);
		closers.push(
			() => alice.destroy(),
			() => bob.destroy(),
		);

		const alicePeer = await join(alice);
		const bobPeer = await join(bob);
		await eventually(() => calls(alice).some((m) => m.kind === "join" && m.from?.peer === bobPeer));
		expect(calls(alice).find((m) => m.kind === "join")?.from?.name).toBe(guest.user.username);
		send(alice, { kind: "present", to: bobPeer, muted: true, camera: false });
		await eventually(() => calls(bob).some((m) => m.kind === "present" && m.from?.peer === alicePeer));
		expect(calls(bob).find((m) => m.kind === "present")).toMatchObject({
			muted: true,
			from: { userId: owner.user.id },
		});

		// Bob's node goes away: alice hears that his peer left.
		bob.destroy();
		await eventually(() => calls(alice).some((m) => m.kind === "leave" && m.from?.peer === bobPeer));
	});
});

describe("call signals reach their addressee only", () => {
	async function sessionWithFour(base: string) {
		const owner = await registerUser(base, "sigowner");
		const bob = await registerUser(base, "sigbob");
		const carol = await registerUser(base, "sigcarol");
		const viewer = await registerUser(base, "sigviewer");
		const session = await createSession(base, owner.token, { title: "signals" });
		for (const [user, role] of [
			[bob, "editor"],
			[carol, "editor"],
			[viewer, "viewer"],
		] as const) {
			const invited = await api(base, "POST", "/invite-user", {
				token: owner.token,
				body: { sessionId: session.id, username: user.user.username, role },
			});
			expect([200, 201]).toContain(invited.status);
		}
		return { owner, bob, carol, viewer, sessionId: session.id as string };
	}

	/** A sends B an offer and a candidate; C (joined) and V (never joined) must get neither. */
	async function addressedSignals(nodeOfA: RunningServer, nodeOfOthers: RunningServer): Promise<void> {
		const cast = await sessionWithFour(nodeOfA.url);
		const a = await connectClient(nodeOfA.wsUrl, cast.sessionId, cast.owner.token);
		const b = await connectClient(nodeOfOthers.wsUrl, cast.sessionId, cast.bob.token);
		const c = await connectClient(nodeOfOthers.wsUrl, cast.sessionId, cast.carol.token);
		const v = await connectClient(nodeOfOthers.wsUrl, cast.sessionId, cast.viewer.token);
		closers.push(
			() => a.destroy(),
			() => b.destroy(),
			() => c.destroy(),
			() => v.destroy(),
		);
		const aPeer = await join(a);
		const bPeer = await join(b);
		await join(c);
		await eventually(() => calls(a).filter((m) => m.kind === "join").length === 2);

		const candidate = { candidate: "candidate:1 1 udp 2122260223 192.0.2.10 54321 typ host", sdpMid: "0" };
		send(a, { kind: "description", to: bPeer, description: { type: "offer", sdp: "v=0\r\nc=IN IP4 192.0.2.10\r\n" } });
		send(a, { kind: "candidate", to: bPeer, candidate });
		// Then something for every joined peer: once C has it, C would have had the two before it.
		send(a, { kind: "state", muted: true, camera: false });
		await eventually(() => calls(b).some((m) => m.kind === "candidate" && m.from?.peer === aPeer));
		expect(calls(b).find((m) => m.kind === "description")).toMatchObject({ to: bPeer, from: { peer: aPeer } });
		await eventually(() => calls(c).some((m) => m.kind === "state" && m.from?.peer === aPeer));
		// V asks the server something only V hears the answer to: everything sent to V before has arrived.
		send(v, { kind: "state", muted: true, camera: false });
		await eventually(() => calls(v).some((m) => m.kind === "error"));

		expect(calls(c).filter((m) => m.kind === "description" || m.kind === "candidate")).toEqual([]);
		expect(calls(v).filter((m) => m.kind !== "error")).toEqual([]);
		expect(calls(v).find((m) => m.kind === "error")).toMatchObject({ code: "not_joined" });
	}

	it("RELIABILITY 47: a signal to peer B reaches neither peer C nor a viewer who never joined", async () => {
		const node = await startTestServer();
		closers.push(() => node.close());
		await addressedSignals(node, node);
	});

	it("RELIABILITY 47: across nodes, a signal to peer B reaches neither peer C nor a viewer who never joined", async () => {
		const dbName = `tandem_sig_${Math.random().toString(36).slice(2, 10)}`;
		const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
		await admin.unsafe(`CREATE DATABASE ${dbName}`);
		closers.push(async () => {
			await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
			await admin.end();
		});
		const env = { DATABASE_URL: databaseUrl(dbName), REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: dbName };
		const nodeA = await startTestServer(env);
		closers.push(() => nodeA.close());
		const nodeB = await startTestServer(env);
		closers.push(() => nodeB.close());
		await addressedSignals(nodeA, nodeB);
	});
});
