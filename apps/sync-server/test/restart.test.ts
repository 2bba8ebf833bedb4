import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { codeText, readCode } from "@tandem/crdt-schema";
import { afterAll, describe, expect, it } from "vitest";
import { type ChildServer, spawnServer } from "./support/childServer.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { api, createSession, eventually, registerUser } from "./support/testServer.ts";

const dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-restart-"));
const env = { DATA_DIR: dataDir, PERSIST_DEBOUNCE_MS: "5000", PERSIST_MAX_DEBOUNCE_MS: "30000" };
const running: ChildServer[] = [];
const clients: CollabClient[] = [];

afterAll(async () => {
	for (const c of clients) c.destroy();
	for (const r of running) await r.stop("SIGKILL");
	rmSync(dataDir, { recursive: true, force: true });
});

describe("restart on the same DATA_DIR", () => {
	it("keeps the text exactly: SIGTERM stores open documents (inside the debounce), exits 0, and the next process loads them", async () => {
		const first = await spawnServer(env);
		running.push(first);
		const u = await registerUser(first.url, "restart");
		const session = await createSession(first.url, u.token, { code: "line one\n" });
		const c = await connectClient(first.wsUrl, session.id, u.token);
		clients.push(c);
		// Unicode and a long debounce: only the SIGTERM drain can have stored this.
		codeText(c.doc).insert(codeText(c.doc).length, "línea dos ✓\n");
		const expected = readCode(c.doc);
		await eventually(
			async () => (await api(first.url, "GET", `/session/${session.id}`, { token: u.token })).body?.code === expected,
		);

		expect(await first.stop("SIGTERM")).toBe(0);
		running.pop();
		c.destroy();

		const second = await spawnServer(env);
		running.push(second);
		const login = await api(second.url, "POST", "/login", {
			body: { username: u.user.username, password: u.password },
		});
		expect(login.status).toBe(200);
		// The token from the first process still works: the secret lives in the database.
		const view = await api(second.url, "GET", `/session/${session.id}`, { token: u.token });
		expect(view.status).toBe(200);
		expect(view.body.code).toBe(expected);
		const again = await connectClient(second.wsUrl, session.id, login.body.token);
		clients.push(again);
		expect(readCode(again.doc)).toBe(expected);
		expect((await api(second.url, "GET", "/readyz")).status).toBe(200);
	}, 90_000);
});
