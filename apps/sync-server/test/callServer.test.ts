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
