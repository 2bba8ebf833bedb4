import { monitorEventLoopDelay } from "node:perf_hooks";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	MAX_AWARENESS_MESSAGE_BYTES,
	MAX_PRESENCE_CLIENTS_PER_CONNECTION,
	PRESENCE_BURST,
	PRESENCE_REFILL_PER_SECOND,
} from "../src/collab/PresenceExtension.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { openRawCollab, type RawCollab } from "./support/rawCollab.ts";
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

// Presence (Yjs awareness) from a hostile participant: stock providers for the people being
// attacked, raw frames for the attacker, on the real server with real auth and sessions.
const closers: Array<() => Promise<void> | void> = [];
afterAll(async () => {
	for (const close of closers.reverse()) await close();
});

type User = Awaited<ReturnType<typeof registerUser>>;
interface Cast {
	owner: User;
	editor: User;
	viewer: User;
	sessionId: string;
}

async function sessionWithCast(base: string): Promise<Cast> {
	const owner = await registerUser(base, "presowner");
	const editor = await registerUser(base, "preseditor");
	const viewer = await registerUser(base, "presviewer");
	const session = await createSession(base, owner.token, { title: "presence" });
	for (const [user, role] of [
		[editor, "editor"],
		[viewer, "viewer"],
	] as const) {
		const invited = await api(base, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, username: user.user.username, role },
		});
		expect([200, 201]).toContain(invited.status);
	}
	return { owner, editor, viewer, sessionId: session.id as string };
}

async function connect(node: RunningServer, sessionId: string, user: User): Promise<CollabClient> {
	const client = await connectClient(node.wsUrl, sessionId, user.token);
	closers.push(() => client.destroy());
	return client;
}

async function raw(node: RunningServer, sessionId: string, user: User): Promise<RawCollab> {
	const client = await openRawCollab(node.wsUrl, sessionId, user.token);
	closers.push(() => client.close());
	return client;
}

type State = Record<string, any>;
const stateOf = (client: CollabClient, clientId: number): State | undefined =>
	client.provider.awareness?.getStates().get(clientId) as State | undefined;
const clockOf = (client: CollabClient, clientId: number): number =>
	client.provider.awareness?.meta.get(clientId)?.clock ?? 0;

describe("presence on one node", () => {
	let node: RunningServer;
	let cast: Cast;
	beforeAll(async () => {
		node = await startTestServer();
		closers.push(() => node.close());
		cast = await sessionWithCast(node.url);
	});

	it("RELIABILITY 46: a viewer cannot announce a state under the owner's client id, whatever its clock", async () => {
		const owner = await connect(node, cast.sessionId, cast.owner);
		const editor = await connect(node, cast.sessionId, cast.editor);
		const ownerId = owner.doc.clientID;
		owner.provider.awareness?.setLocalStateField("user", {
			id: cast.owner.user.id,
			name: cast.owner.user.username,
			color: "#112233",
		});
		await eventually(() => stateOf(editor, ownerId)?.user?.color === "#112233");

		const viewer = await raw(node, cast.sessionId, cast.viewer);
		const forged = { user: { id: cast.owner.user.id, name: "owner (hijacked)", color: "#ff0000" }, cursor: null };
		viewer.sendAwareness([{ clientId: ownerId, clock: clockOf(editor, ownerId) + 100, state: forged }]);
		// The viewer's own state after the forgery: once it arrives, the forgery was handled.
		viewer.sendAwareness([{ clientId: 4242, clock: 1, state: { marker: "after" } }]);
		await eventually(() => stateOf(editor, 4242) !== undefined);
		await viewer.roundTrip();

		for (const seen of [editor, owner]) {
			expect(stateOf(seen, ownerId)?.user).toMatchObject({ name: cast.owner.user.username, color: "#112233" });
		}
		expect(owner.provider.awareness?.getLocalState()?.user?.name).toBe(cast.owner.user.username);
		// The viewer's own state carries the viewer's account, not what the frame said.
		expect(stateOf(editor, 4242)?.user).toMatchObject({ id: cast.viewer.user.id, name: cast.viewer.user.username });
	});

	it("RELIABILITY 46: a connection announces a few client ids at most, and never another connection's", async () => {
		const editor = await connect(node, cast.sessionId, cast.editor);
		const other = await connect(node, cast.sessionId, cast.owner);
		other.provider.awareness?.setLocalStateField("user", { id: cast.owner.user.id, name: "x", color: "#123456" });
		await eventually(() => stateOf(editor, other.doc.clientID) !== undefined);

		const viewer = await raw(node, cast.sessionId, cast.viewer);
		const ids = Array.from({ length: 10 }, (_, i) => 9000 + i);
		for (const clientId of ids) viewer.sendAwareness([{ clientId, clock: 1, state: { n: clientId } }]);
		// Another connection's id (the owner's second tab, say) is not free either, not even at clock 1000.
		viewer.sendAwareness([{ clientId: other.doc.clientID, clock: 1000, state: { n: "stolen" } }]);
		viewer.sendAwareness([{ clientId: ids[0] as number, clock: 2, state: { n: "last" } }]);
		await viewer.roundTrip();
		await eventually(() => stateOf(editor, ids[0] as number) !== undefined);

		const announced = ids.filter((id) => stateOf(editor, id) !== undefined);
		expect(announced.length).toBeLessThanOrEqual(MAX_PRESENCE_CLIENTS_PER_CONNECTION);
		expect(stateOf(editor, other.doc.clientID)?.user?.id).toBe(cast.owner.user.id);
		const document = node.server.hocuspocus.documents.get(cast.sessionId);
		const held = ids.filter((id) => document?.awareness.getStates().has(id));
		expect(held.length).toBeLessThanOrEqual(MAX_PRESENCE_CLIENTS_PER_CONNECTION);
	});

	it("RELIABILITY 46: a hostile colour or name never reaches another participant; names come from the account", async () => {
		const editor = await connect(node, cast.sessionId, cast.editor);
		const viewer = await connect(node, cast.sessionId, cast.viewer);
		const hostile = {
			id: cast.owner.user.id,
			name: `${cast.owner.user.username}\u202e<img src=x onerror=alert(1)>`,
			color: "red; position: fixed; inset: 0; background: url(https://attacker.example/x.png)",
			colorLight: "#000000ff; z-index: 99999",
		};
		viewer.provider.awareness?.setLocalStateField("user", hostile);
		await eventually(() => stateOf(editor, viewer.doc.clientID)?.user !== undefined);
		const seen = stateOf(editor, viewer.doc.clientID)?.user;
		expect(seen).toEqual({ id: cast.viewer.user.id, name: cast.viewer.user.username });

		// A valid colour passes; the name is still the account's whatever the client claims.
		viewer.provider.awareness?.setLocalStateField("user", { id: "x", name: "The Owner", color: "#a1b2c3" });
		await eventually(() => stateOf(editor, viewer.doc.clientID)?.user?.color === "#a1b2c3");
		expect(stateOf(editor, viewer.doc.clientID)?.user?.name).toBe(cast.viewer.user.username);
	});

	it("RELIABILITY 46: 40 awareness frames of 900 fake states neither stall the server nor reach the others", async () => {
		const victim = await raw(node, cast.sessionId, cast.editor);
		const attacker = await raw(node, cast.sessionId, cast.viewer);
		await victim.roundTrip();
		const bytesBefore = victim.bytesReceived();
		const padding = "x".repeat(1000);
		// Built before measuring: the test process is the server's too, and encoding is the client's work.
		const frames = Array.from({ length: 40 }, (_, frame) =>
			attacker.awarenessFrame(
				Array.from({ length: 900 }, (_, i) => ({
					clientId: 100_000 + frame * 900 + i,
					clock: 1,
					state: { user: { name: `ghost ${i}`, color: "#000000" }, padding },
				})),
			),
		);
		const lag = monitorEventLoopDelay({ resolution: 10 });
		lag.enable();
		for (const frame of frames) attacker.sendFrame(frame);
		// Handled once the attacker's round trip returns or the server closed it; the victim's round
		// trip then brings everything the server sent it meanwhile.
		await attacker.roundTrip().catch(() => {});
		await victim.roundTrip();
		lag.disable();

		const bytes = victim.bytesReceived() - bytesBefore;
		// Unfixed: tens of MB per participant (115 MB with 3 KB states) and a stall of seconds.
		expect(bytes).toBeLessThan(MAX_AWARENESS_MESSAGE_BYTES * 4);
		// Unfixed, the server alone stalls ~3 s on an idle machine; 2 s leaves room for a loaded one.
		expect(lag.max / 1e6).toBeLessThan(2000);
		const document = node.server.hocuspocus.documents.get(cast.sessionId);
		expect(document?.awareness.getStates().size ?? 0).toBeLessThan(20);
		expect(attacker.closeReason()).toBe("Presence update too large");
	});

	it("RELIABILITY 46: a small frame with more states than a connection may announce closes that connection", async () => {
		const attacker = await raw(node, cast.sessionId, cast.viewer);
		const entries = Array.from({ length: MAX_PRESENCE_CLIENTS_PER_CONNECTION + 1 }, (_, i) => ({
			clientId: 50_000 + i,
			clock: 1,
			state: {},
		}));
		attacker.sendAwareness(entries);
		await attacker.closed;
		expect(attacker.closeReason()).toBe("Presence update too large");
	});

	it("RELIABILITY 46: a flood of small presence frames reaches the others at a bounded rate", async () => {
		const victim = await raw(node, cast.sessionId, cast.editor);
		const attacker = await raw(node, cast.sessionId, cast.viewer);
		await victim.roundTrip();
		const bytesBefore = victim.bytesReceived();
		const started = performance.now();
		const padding = "x".repeat(3500);
		const frames = 2000;
		for (let clock = 1; clock <= frames; clock++) {
			attacker.sendAwareness([{ clientId: 777, clock, state: { padding, clock } }]);
		}
		await attacker.roundTrip().catch(() => {});
		await victim.roundTrip();
		const elapsedSeconds = (performance.now() - started) / 1000;

		// At most a bucket's worth plus the refill over the time the server spent on it, each one frame's size.
		const relayed = (victim.bytesReceived() - bytesBefore) / (padding.length + 200);
		expect(relayed).toBeLessThanOrEqual(PRESENCE_BURST + PRESENCE_REFILL_PER_SECOND * elapsedSeconds + 1);
		expect(relayed).toBeLessThan(frames / 2);
	});
});

describe("presence across two nodes", () => {
	let nodeA: RunningServer;
	let nodeB: RunningServer;
	beforeAll(async () => {
		const dbName = `tandem_presence_${Math.random().toString(36).slice(2, 10)}`;
		const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
		await admin.unsafe(`CREATE DATABASE ${dbName}`);
		closers.push(async () => {
			await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
			await admin.end();
		});
		const env = { DATABASE_URL: databaseUrl(dbName), REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: dbName };
		nodeA = await startTestServer(env);
		closers.push(() => nodeA.close());
		nodeB = await startTestServer(env);
		closers.push(() => nodeB.close());
	});

	it("RELIABILITY 46: a viewer on another node cannot take over the owner's client id", async () => {
		const cast = await sessionWithCast(nodeA.url);
		const owner = await connect(nodeB, cast.sessionId, cast.owner);
		const editorOnA = await connect(nodeA, cast.sessionId, cast.editor);
		const editorOnB = await connect(nodeB, cast.sessionId, cast.editor);
		const ownerId = owner.doc.clientID;
		owner.provider.awareness?.setLocalStateField("user", {
			id: cast.owner.user.id,
			name: cast.owner.user.username,
			color: "#112233",
		});
		await eventually(() => stateOf(editorOnA, ownerId)?.user?.color === "#112233");

		const viewer = await raw(nodeA, cast.sessionId, cast.viewer);
		const forged = { user: { id: cast.owner.user.id, name: "hijacked", color: "#ff0000" }, cursor: null };
		viewer.sendAwareness([{ clientId: ownerId, clock: clockOf(editorOnA, ownerId) + 100, state: forged }]);
		viewer.sendAwareness([{ clientId: 4343, clock: 1, state: { marker: "after" } }]);
		await viewer.roundTrip();
		// The viewer's own state crossed to node B, so the forgery before it was handled there too.
		await eventually(() => stateOf(editorOnA, 4343) !== undefined && stateOf(editorOnB, 4343) !== undefined);

		for (const seen of [editorOnA, editorOnB, owner]) {
			expect(stateOf(seen, ownerId)?.user).toMatchObject({ name: cast.owner.user.username, color: "#112233" });
		}
	});
});
