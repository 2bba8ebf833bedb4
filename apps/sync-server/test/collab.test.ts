import type { afterHandleMessagePayload, Extension } from "@hocuspocus/server";
import { codeText, readCode, readTitle, setTitle } from "@tandem/crdt-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { changeSessionDocument } from "../src/collab/documents.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import {
	api,
	createSession,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
} from "./support/testServer.ts";

/** Counts handled inbound messages per user, so a test can wait until the server processed an edit. */
class HandledCounter implements Extension {
	readonly counts = new Map<string, number>();
	async afterHandleMessage({ context }: afterHandleMessagePayload): Promise<void> {
		const id = (context as { user?: { id: string } }).user?.id ?? "?";
		this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
	}
	count(userId: string): number {
		return this.counts.get(userId) ?? 0;
	}
}

function mulberry32(seed: number): () => number {
	let a = seed;
	return () => {
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

let s: RunningServer;
const counter = new HandledCounter();
const clients: CollabClient[] = [];
const track = (c: CollabClient) => {
	clients.push(c);
	return c;
};

beforeAll(async () => {
	s = await startTestServer({}, { extensions: [counter] });
});
afterAll(async () => {
	for (const c of clients) c.destroy();
	await s?.close();
});

function liveText(id: string): string | undefined {
	const doc = s.server.hocuspocus.documents.get(id);
	return doc ? readCode(doc) : undefined;
}

describe("collaboration", () => {
	it("several clients making seeded random concurrent edits with random disconnects converge to equal text", async () => {
		const owner = await registerUser(s.url, "fuzzowner");
		const session = await createSession(s.url, owner.token, { code: "seed\n" });
		const editors = [owner];
		for (let i = 0; i < 3; i++) {
			const e = await registerUser(s.url, "fuzzed");
			await api(s.url, "POST", "/invite-user", {
				token: owner.token,
				body: { sessionId: session.id, userId: e.user.id },
			});
			editors.push(e);
		}
		const replicas = await Promise.all(editors.map((e) => connectClient(s.wsUrl, session.id, e.token).then(track)));
		const online = replicas.map(() => true);
		const rand = mulberry32(20_261_129);
		for (let step = 0; step < 300; step++) {
			const i = Math.floor(rand() * replicas.length);
			const r = replicas[i] as CollabClient;
			const roll = rand();
			if (roll < 0.08) {
				if (online[i]) r.socket.disconnect();
				else void r.socket.connect();
				online[i] = !online[i];
			} else {
				const text = codeText(r.doc);
				if (roll < 0.75 || text.length < 3) {
					const pos = Math.floor(rand() * (text.length + 1));
					text.insert(pos, String.fromCharCode(97 + Math.floor(rand() * 26)).repeat(1 + Math.floor(rand() * 3)));
				} else {
					const pos = Math.floor(rand() * (text.length - 1));
					text.delete(pos, 1 + Math.floor(rand() * Math.min(3, text.length - pos - 1)));
				}
			}
			if (rand() < 0.2) await new Promise((res) => setTimeout(res, Math.floor(rand() * 5)));
		}
		replicas.forEach((r, i) => {
			if (!online[i]) void r.socket.connect();
		});
		await eventually(() => {
			const texts = replicas.map((r) => readCode(r.doc));
			return texts.every((t) => t === texts[0]) && liveText(session.id) === texts[0];
		});
		const final = readCode((replicas[0] as CollabClient).doc);
		expect(final.length).toBeGreaterThan(0);
		for (const r of replicas) expect(readCode(r.doc)).toBe(final);
	}, 60_000);

	it("tells clients when their changes are stored, with the stored state vector", async () => {
		const owner = await registerUser(s.url, "saver");
		const session = await createSession(s.url, owner.token);
		const c = track(await connectClient(s.wsUrl, session.id, owner.token));
		codeText(c.doc).insert(0, "durable text");
		const localClock = Y.decodeStateVector(Y.encodeStateVector(c.doc)).get(c.doc.clientID) ?? 0;
		await eventually(() =>
			c.stateless.some((p) => {
				const msg = JSON.parse(p) as { type: string; stateVector: string };
				if (msg.type !== "stored") return false;
				const sv = Y.decodeStateVector(Buffer.from(msg.stateVector, "base64"));
				return (sv.get(c.doc.clientID) ?? 0) >= localClock;
			}),
		);
		const stored = await s.server.ctx.store.loadDocument(session.id);
		const doc = new Y.Doc();
		Y.applyUpdate(doc, stored as Uint8Array);
		expect(readCode(doc)).toBe("durable text");
	}, 30_000);

	it("refuses a stranger", async () => {
		const owner = await registerUser(s.url, "host");
		const stranger = await registerUser(s.url, "intruder");
		const session = await createSession(s.url, owner.token, { code: "secret" });
		await expect(connectClient(s.wsUrl, session.id, stranger.token)).rejects.toThrow(/authentication failed/);
		await expect(connectClient(s.wsUrl, session.id, "not-a-token")).rejects.toThrow(/authentication failed/);
	});

	it("keeps a socket authenticated for session A out of session B", async () => {
		const alice = await registerUser(s.url, "alice");
		const bob = await registerUser(s.url, "bob");
		const a = await createSession(s.url, alice.token, { code: "A" });
		const b = await createSession(s.url, bob.token, { code: "B-secret" });
		const clientA = track(await connectClient(s.wsUrl, a.id, alice.token));
		expect(readCode(clientA.doc)).toBe("A");
		const docB = new Y.Doc();
		await expect(connectClient(s.wsUrl, b.id, alice.token, { socket: clientA.socket, doc: docB })).rejects.toThrow(
			/authentication failed/,
		);
		expect(readCode(docB)).toBe("");
		// Session A still works on the same socket.
		codeText(clientA.doc).insert(1, "!");
		await eventually(() => liveText(a.id) === "A!");
	});

	it("refuses document names that are not session ids", async () => {
		const u = await registerUser(s.url, "names");
		for (const name of ["../../etc/passwd", "x".repeat(10_000), "abc\u0000defghijklmnopqrstuvwxyz", "short"]) {
			await expect(connectClient(s.wsUrl, name, u.token)).rejects.toThrow(/authentication failed/);
			expect(s.server.hocuspocus.documents.has(name)).toBe(false);
		}
	});

	it("serves only the path's document on a /collab/{sessionId} socket", async () => {
		const u = await registerUser(s.url, "pinned");
		const one = await createSession(s.url, u.token, { code: "one" });
		const two = await createSession(s.url, u.token, { code: "two" });
		const ok = track(await connectClient(`${s.wsUrl}/${one.id}`, one.id, u.token));
		expect(readCode(ok.doc)).toBe("one");
		await expect(connectClient(`${s.wsUrl}/${one.id}`, two.id, u.token)).rejects.toThrow(/authentication failed/);
	});

	it("refuses upgrades on other paths and from foreign origins", async () => {
		const refused = (url: string, headers?: Record<string, string>) =>
			new Promise<boolean>((resolve) => {
				// Node's WebSocket cannot set Origin; use a raw upgrade request.
				const u = new URL(url.replace("ws:", "http:"));
				import("node:http").then(({ request }) => {
					const req = request({
						host: u.hostname,
						port: u.port,
						path: u.pathname,
						headers: {
							connection: "Upgrade",
							upgrade: "websocket",
							"sec-websocket-version": "13",
							"sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
							...headers,
						},
					});
					req.on("upgrade", (_res, socket) => {
						socket.destroy();
						resolve(false);
					});
					req.on("response", () => resolve(true));
					req.on("error", () => resolve(true));
					req.end();
				});
			});
		expect(await refused(s.wsUrl)).toBe(false);
		expect(await refused(s.wsUrl.replace("/collab", "/other"))).toBe(true);
		expect(await refused(s.wsUrl, { origin: "https://evil.example" })).toBe(true);
		expect(await refused(`${s.wsUrl}/AAAAAAAAAAAAAAAAAAAAAA`)).toBe(false);
	});

	it("drops a viewer's edits on the server", async () => {
		const owner = await registerUser(s.url, "teacher");
		const viewer = await registerUser(s.url, "student");
		const session = await createSession(s.url, owner.token, { code: "read only" });
		await api(s.url, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, userId: viewer.user.id, role: "viewer" },
		});
		const v = track(await connectClient(s.wsUrl, session.id, viewer.token));
		expect(readCode(v.doc)).toBe("read only");
		const before = counter.count(viewer.user.id);
		codeText(v.doc).insert(0, "HACKED ");
		await eventually(() => counter.count(viewer.user.id) > before);
		expect(liveText(session.id)).toBe("read only");
		const view = await api(s.url, "GET", `/session/${session.id}`, { token: owner.token });
		expect(view.body.code).toBe("read only");
	});

	it("applies a downgrade to viewer to an open socket", async () => {
		const owner = await registerUser(s.url, "lead");
		const ed = await registerUser(s.url, "demoted");
		const session = await createSession(s.url, owner.token, { code: "" });
		await api(s.url, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, userId: ed.user.id },
		});
		const c = track(await connectClient(s.wsUrl, session.id, ed.token));
		codeText(c.doc).insert(0, "allowed");
		await eventually(() => liveText(session.id) === "allowed");
		await api(s.url, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, userId: ed.user.id, role: "viewer" },
		});
		const before = counter.count(ed.user.id);
		codeText(c.doc).insert(0, "refused ");
		await eventually(() => counter.count(ed.user.id) > before);
		expect(liveText(session.id)).toBe("allowed");
	});

	it("closes a user's sockets at logout", async () => {
		const u = await registerUser(s.url, "leaver");
		const session = await createSession(s.url, u.token);
		const c = track(await connectClient(s.wsUrl, session.id, u.token));
		let closed = false;
		c.provider.on("close", () => {
			closed = true;
		});
		await api(s.url, "POST", "/logout", { token: u.token });
		await eventually(() => closed);
	});

	it("closes a user's sockets when the password changes (RELIABILITY 27)", async () => {
		const u = await registerUser(s.url, "rekey");
		const session = await createSession(s.url, u.token);
		const c = track(await connectClient(s.wsUrl, session.id, u.token));
		let closed = false;
		c.provider.on("close", () => {
			closed = true;
		});
		const res = await api(s.url, "POST", "/change-password", {
			token: u.token,
			body: { currentPassword: u.password, newPassword: "another long passphrase 7" },
		});
		expect(res.status).toBe(200);
		await eventually(() => closed);
		// The new token opens the session again.
		const again = track(await connectClient(s.wsUrl, session.id, res.body.token));
		expect(again.provider.isSynced).toBe(true);
	});

	it("changes made through changeSessionDocument reach open editors, and GET /session follows the live document", async () => {
		const u = await registerUser(s.url, "restwriter");
		const session = await createSession(s.url, u.token, { code: "x", title: "old" });
		const c = track(await connectClient(s.wsUrl, session.id, u.token));
		await changeSessionDocument(s.server.hocuspocus, session.id, (doc) => {
			codeText(doc).insert(1, "yz");
			setTitle(doc, "new");
		});
		await eventually(() => readCode(c.doc) === "xyz" && readTitle(c.doc) === "new");
		codeText(c.doc).insert(0, ">");
		await eventually(() => liveText(session.id) === ">xyz");
		const view = await api(s.url, "GET", `/session/${session.id}`, { token: u.token });
		expect(view.body).toMatchObject({ code: ">xyz", title: "new" });
	});
});
