import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { codeText, readCode } from "@tandem/crdt-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { DocumentStore } from "../src/persistence/DocumentStore.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import {
	api,
	createSession,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
} from "./support/testServer.ts";

const clients: CollabClient[] = [];
afterAll(() => {
	for (const c of clients) c.destroy();
});

describe("serving the built editor", () => {
	let s: RunningServer;
	const dist = mkdtempSync(path.join(os.tmpdir(), "tandem-dist-"));
	beforeAll(async () => {
		mkdirSync(path.join(dist, "assets"));
		writeFileSync(path.join(dist, "index.html"), "<!doctype html><title>Tandem app</title>");
		writeFileSync(path.join(dist, "assets", "app.js"), "console.log('app')");
		s = await startTestServer({ EDITOR_DIST: dist });
	});
	afterAll(async () => {
		await s?.close();
		rmSync(dist, { recursive: true, force: true });
	});

	it("serves index.html at / and for app routes, assets as files, and JSON 404s for API paths and missing assets", async () => {
		const root = await api(s.url, "GET", "/");
		expect(root.status).toBe(200);
		expect(root.text).toContain("Tandem app");
		for (const route of ["/s/AAAAAAAAAAAAAAAAAAAAAA", "/login", "/signup", "/sessions"]) {
			const page = await api(s.url, "GET", route, { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
			expect(page.status).toBe(200);
			expect(page.headers.get("content-type")).toMatch(/text\/html/);
			expect(page.text).toContain("Tandem app");
		}
		const asset = await api(s.url, "GET", "/assets/app.js");
		expect(asset.status).toBe(200);
		expect(asset.text).toContain("app");
		const missing = await api(s.url, "GET", "/assets/missing.js");
		expect(missing.status).toBe(404);
		expect(missing.body.error.code).toBe("not_found");
		const unknownApi = await api(s.url, "POST", "/no-such-call", { body: {} });
		expect(unknownApi.status).toBe(404);
		// API routes still win over static files; fetch() of /sessions gets the API.
		expect((await api(s.url, "GET", "/livez")).status).toBe(200);
		const apiList = await api(s.url, "GET", "/sessions");
		expect(apiList.status).toBe(401);
		expect(apiList.body.error.code).toBe("unauthorized");
	});
});

describe("socket hardening", () => {
	let s: RunningServer;
	beforeAll(async () => {
		s = await startTestServer({ WS_MAX_PAYLOAD_BYTES: "1048576" });
	});
	afterAll(async () => {
		await s?.close();
	});

	it("closes a socket that sends a frame over the size cap, and other clients carry on", async () => {
		const u = await registerUser(s.url, "frames");
		const session = await createSession(s.url, u.token, { code: "safe" });
		const good = await connectClient(s.wsUrl, session.id, u.token);
		clients.push(good);
		const closeCode = await new Promise<number>((resolve) => {
			const ws = new WebSocket(s.wsUrl);
			ws.binaryType = "arraybuffer";
			ws.onopen = () => ws.send(new Uint8Array(2 * 1_048_576));
			ws.onclose = (e) => resolve(e.code);
		});
		expect(closeCode).toBe(1009);
		codeText(good.doc).insert(4, "!");
		await eventually(() => readCode(s.server.hocuspocus.documents.get(session.id) as unknown as Y.Doc) === "safe!");
	});

	it("survives random bytes on a socket", async () => {
		const u = await registerUser(s.url, "garbage");
		const session = await createSession(s.url, u.token, { code: "steady" });
		const good = await connectClient(s.wsUrl, session.id, u.token);
		clients.push(good);
		await new Promise<void>((resolve) => {
			const ws = new WebSocket(s.wsUrl);
			ws.onopen = () => {
				let seed = 7;
				for (let i = 0; i < 20; i++) {
					const bytes = new Uint8Array(64).map(() => {
						seed = (seed * 1103515245 + 12345) & 0x7fffffff;
						return seed & 0xff;
					});
					ws.send(bytes);
				}
				ws.close();
			};
			ws.onclose = () => resolve();
			ws.onerror = () => resolve();
		});
		codeText(good.doc).insert(0, ">");
		await eventually(() => readCode(s.server.hocuspocus.documents.get(session.id) as unknown as Y.Doc) === ">steady");
		expect((await api(s.url, "GET", "/livez")).status).toBe(200);
	});
	// Oversized and hostile awareness states, and the relay of small ones with the account's name (SPEC PR1-PR3),
	// are covered by presence.test.ts (RELIABILITY 46).
});

describe("durability", () => {
	it("retries a failed store without further edits, and drain makes /readyz 503 and stores open documents", async () => {
		let failuresLeft = 2;
		const s = await startTestServer(
			{},
			{
				wrapStore: (store: DocumentStore): DocumentStore => ({
					loadDocument: (id) => store.loadDocument(id),
					compactDocument: (id) => store.compactDocument(id),
					async storeDocument(id, state, summary) {
						if (failuresLeft > 0) {
							failuresLeft--;
							throw new Error("injected store failure");
						}
						return store.storeDocument(id, state, summary);
					},
				}),
			},
		);
		try {
			const u = await registerUser(s.url, "durable");
			const session = await createSession(s.url, u.token, { code: "" });
			const c = await connectClient(s.wsUrl, session.id, u.token);
			clients.push(c);
			codeText(c.doc).insert(0, "typed once");
			await eventually(async () => {
				const state = await s.server.ctx.store.loadDocument(session.id);
				if (!state) return false;
				const doc = new Y.Doc();
				Y.applyUpdate(doc, state);
				return readCode(doc) === "typed once";
			}, 100);
			expect(failuresLeft).toBe(0);

			codeText(c.doc).insert(0, "> ");
			await eventually(
				() => readCode(s.server.hocuspocus.documents.get(session.id) as unknown as Y.Doc) === "> typed once",
			);
			const draining = s.server.drain();
			expect((await api(s.url, "GET", "/readyz")).status).toBe(503);
			await draining;
			const state = await s.server.ctx.store.loadDocument(session.id);
			const doc = new Y.Doc();
			Y.applyUpdate(doc, state as Uint8Array);
			expect(readCode(doc)).toBe("> typed once");
			expect(s.server.hocuspocus.getDocumentsCount()).toBe(0);
		} finally {
			await s.close();
		}
	}, 30_000);
});
