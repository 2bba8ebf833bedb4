import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { codeText, readCode, readTitle, setTitle } from "@tandem/crdt-schema";
import { nanoid } from "nanoid";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { type ChildServer, spawnServer } from "./support/childServer.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { api, createSession, eventually, registerUser, TEST_DATABASE_URL } from "./support/testServer.ts";

const running: ChildServer[] = [];
const clients: CollabClient[] = [];
const dirs: string[] = [];
const schemas: string[] = [];

afterAll(async () => {
	for (const c of clients) c.destroy();
	for (const r of running) await r.stop("SIGKILL");
	for (const d of dirs) rmSync(d, { recursive: true, force: true });
	if (schemas.length) {
		const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
		for (const s of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
		await admin.end();
	}
});

/** Whether the server said it stored a state covering everything `doc` holds. */
function storedCovers(client: CollabClient): boolean {
	const mine = Y.encodeStateVector(client.doc);
	return client.stateless.some((payload) => {
		const message = JSON.parse(payload) as { type?: string; stateVector?: string };
		if (message.type !== "stored" || !message.stateVector) return false;
		const stored = Y.decodeStateVector(Buffer.from(message.stateVector, "base64"));
		for (const [clientId, clock] of Y.decodeStateVector(mine)) {
			if ((stored.get(clientId) ?? 0) < clock) return false;
		}
		return true;
	});
}

for (const kind of ["PGlite", "Postgres"] as const) {
	// One server, then a hard restart on the same database: two spawns per kind (a spawn is
	// the slow part), both cases' edits made before the restart and checked after it.
	describe(`text in the live document survives a restart (${kind})`, () => {
		let token: string;
		let nulSession: string;
		let crSession: string;
		let nulExpected: string;
		let firstOutput: string;
		let second: ChildServer;

		beforeAll(async () => {
			const dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-text-"));
			dirs.push(dataDir);
			let env: Record<string, string> = {
				DATA_DIR: dataDir,
				PERSIST_DEBOUNCE_MS: "50",
				PERSIST_MAX_DEBOUNCE_MS: "200",
			};
			if (kind === "Postgres") {
				const schema = `textrestart_${nanoid(8)
					.toLowerCase()
					.replace(/[^a-z0-9]/g, "x")}`;
				schemas.push(schema);
				env = { ...env, DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema };
			}
			const first = await spawnServer(env);
			running.push(first);
			const u = await registerUser(first.url, "textnul");
			token = u.token;

			nulSession = (await createSession(first.url, token, { code: "start\n" })).id;
			const c = await connectClient(first.wsUrl, nulSession, token);
			clients.push(c);
			codeText(c.doc).insert(codeText(c.doc).length, "paste \u0000 here \u0010 π 😀\n");
			setTitle(c.doc, "title \u0000 too");
			await eventually(() => storedCovers(c));
			// An edit after the NUL must be stored as well (it used to fail forever from here on).
			codeText(c.doc).insert(codeText(c.doc).length, "typed after\n");
			await eventually(() => storedCovers(c));
			nulExpected = readCode(c.doc);

			crSession = (await createSession(first.url, token, { code: "" })).id;
			const old = await connectClient(first.wsUrl, crSession, token);
			clients.push(old);
			// A client from before CS7 writes CR line breaks straight into the Y.Text.
			codeText(old.doc).insert(0, "a = 1\r\nb = 2\rc = 3\r\n");
			await eventually(() => storedCovers(old));

			// SIGKILL: nothing is stored on the way down; only what was stored counts.
			firstOutput = first.output();
			await first.stop("SIGKILL");
			running.splice(running.indexOf(first), 1);
			c.destroy();
			old.destroy();
			second = await spawnServer(env);
			running.push(second);
		}, 600_000);

		it("RELIABILITY 37: a NUL typed into the code and title is stored, later edits too, and all survive a hard restart", async () => {
			expect(nulExpected).toBe("start\npaste \u0000 here \u0010 π 😀\ntyped after\n");
			expect(firstOutput).not.toMatch(/store failed/);
			const again = await connectClient(second.wsUrl, nulSession, token);
			clients.push(again);
			expect(readCode(again.doc)).toBe(nulExpected);
			expect(readTitle(again.doc)).toBe("title \u0000 too");
		});

		it("RELIABILITY 38: a stored document holding CR line breaks loads with LF ones (SPEC CS7)", async () => {
			const again = await connectClient(second.wsUrl, crSession, token);
			clients.push(again);
			expect(readCode(again.doc)).toBe("a = 1\nb = 2\nc = 3\n");
			// An edit at an editor's offset lands on the line it was typed on, on the server too.
			codeText(again.doc).insert("a = 1\n".length, "#");
			await eventually(async () => {
				const view = await api(second.url, "GET", `/session/${crSession}`, { token });
				return view.body?.code === "a = 1\n#b = 2\nc = 3\n";
			});
		});
	});
}
