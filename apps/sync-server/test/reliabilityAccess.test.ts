import { codeText, readCode } from "@tandem/crdt-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_MESSAGE_TYPE } from "../src/collab/AuthExtension.ts";
import { upsertParticipant } from "../src/sessions/sessionRepository.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import {
	api,
	createSession,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
} from "./support/testServer.ts";

let s: RunningServer;
const clients: CollabClient[] = [];

beforeAll(async () => {
	s = await startTestServer({}, { accessSweepMs: 200 });
});
afterAll(async () => {
	for (const c of clients) c.destroy();
	await s?.close();
});

/** The access messages a client received, parsed. */
function accessMessages(client: CollabClient): Array<{ type: string; role: string }> {
	return client.stateless
		.map((p) => JSON.parse(p) as { type: string; role: string })
		.filter((m) => m.type === ACCESS_MESSAGE_TYPE);
}

describe("role changes reach the connection they concern (RELIABILITY 20)", () => {
	it('tells exactly that connection {"type":"access","role":"viewer"} and back, for changes made here and on another node', async () => {
		const owner = await registerUser(s.url, "accessowner");
		const peer = await registerUser(s.url, "accesspeer");
		const other = await registerUser(s.url, "accessother");
		const session = await createSession(s.url, owner.token, { code: "x\n" });
		for (const u of [peer, other]) {
			const res = await api(s.url, "POST", "/invite-user", {
				token: owner.token,
				body: { sessionId: session.id, userId: u.user.id, role: "editor" },
			});
			expect(res.status).toBeLessThan(300);
		}
		const ownerClient = await connectClient(s.wsUrl, session.id, owner.token);
		const peerClient = await connectClient(s.wsUrl, session.id, peer.token);
		const otherClient = await connectClient(s.wsUrl, session.id, other.token);
		clients.push(ownerClient, peerClient, otherClient);

		// Downgraded on this node through the REST route.
		const down = await api(s.url, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, userId: peer.user.id, role: "viewer" },
		});
		expect(down.status).toBe(200);
		await eventually(() => accessMessages(peerClient).length > 0);
		expect(peerClient.stateless).toContain('{"type":"access","role":"viewer","readOnly":true,"ended":false}');

		// Downgraded on "another node": the row changes without this node's route running; the sweep finds it.
		await upsertParticipant(s.server.ctx.db, session.id, other.user.id, "viewer");
		await eventually(() => accessMessages(otherClient).length > 0);
		expect(accessMessages(otherClient)).toEqual([{ type: "access", role: "viewer", readOnly: true, ended: false }]);

		// Sweeps ran after the first change: still one message each, and none for the owner.
		expect(accessMessages(peerClient)).toEqual([{ type: "access", role: "viewer", readOnly: true, ended: false }]);
		expect(accessMessages(ownerClient)).toEqual([]);

		// The connection really is read-only now: the viewer's edit does not reach the others.
		codeText(peerClient.doc).insert(0, "[viewer]");
		codeText(ownerClient.doc).insert(codeText(ownerClient.doc).length, "[owner]");
		await eventually(() => readCode(otherClient.doc).includes("[owner]"));
		expect(readCode(otherClient.doc)).not.toContain("[viewer]");

		// Upgraded back: told it may edit again.
		await api(s.url, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, userId: peer.user.id, role: "editor" },
		});
		await eventually(() => accessMessages(peerClient).length > 1);
		expect(accessMessages(peerClient)).toEqual([
			{ type: "access", role: "viewer", readOnly: true, ended: false },
			{ type: "access", role: "editor", readOnly: false, ended: false },
		]);
		expect(accessMessages(otherClient)).toEqual([{ type: "access", role: "viewer", readOnly: true, ended: false }]);
	}, 30_000);
});
