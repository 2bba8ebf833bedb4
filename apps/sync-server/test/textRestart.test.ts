import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { codeText, readCode, readTitle, setTitle } from "@tandem/crdt-schema";
import { nanoid } from "nanoid";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { type ChildServer, spawnServer } from "./support/childServer.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { createSession, eventually, registerUser, TEST_DATABASE_URL } from "./support/testServer.ts";

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
	describe(`text in the live document survives a restart (${kind})`, () => {
		function env(): Record<string, string> {
			const dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-text-"));
			dirs.push(dataDir);
			const base = { DATA_DIR: dataDir, PERSIST_DEBOUNCE_MS: "50", PERSIST_MAX_DEBOUNCE_MS: "200" };
			if (kind === "PGlite") return base;
			const schema = `textrestart_${nanoid(8).toLowerCase().replace(/[^a-z0-9]/g, "x")}`;
			schemas.push(schema);
			return { ...base, DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema };
		}

		it("RELIABILITY 37: a NUL typed into the code and title is stored, later edits too, and all survive a hard restart", async () => {
			const e = env();
			const first = await spawnServer(e);
			running.push(first);
			const u = await registerUser(first.url, "textnul");
			const session = await createSession(first.url, u.token, { code: "start\n" });
			const c = await connectClient(first.wsUrl, session.id, u.token);
			clients.push(c);
			codeText(c.doc).insert(codeText(c.doc).length, "paste \u0000 here \u0010 π 😀\n");
			setTitle(c.doc, "title \u0000 too");
			await eventually(() => storedCovers(c));
			// An edit after the NUL must be stored as well (it used to fail forever from here on).
			codeText(c.doc).insert(codeText(c.doc).length, "typed after\n");
			await eventually(() => storedCovers(c));
			const expected = readCode(c.doc);
			expect(expected).toBe("start\npaste \u0000 here \u0010 π 😀\ntyped after\n");
			expect(first.output()).not.toMatch(/store failed/);

			// SIGKILL: nothing is stored on the way down; only what was stored counts.
			await first.stop("SIGKILL");
			running.splice(running.indexOf(first), 1);
			c.destroy();

			const second = await spawnServer(e);
			running.push(second);
			const again = await connectClient(second.wsUrl, session.id, u.token);
			clients.push(again);
			expect(readCode(again.doc)).toBe(expected);
			expect(readTitle(again.doc)).toBe("title \u0000 too");
		}, 120_000);

		it("RELIABILITY 38: a stored document holding CR line breaks loads with LF ones (SPEC CS7)", async () => {
			const e = env();
			const first = await spawnServer(e);
			running.push(first);
			const u = await registerUser(first.url, "textcr");
			const session = await createSession(first.url, u.token, { code: "" });
			const c = await connectClient(first.wsUrl, session.id, u.token);
			clients.push(c);
			// A client from before CS7 writes CR line breaks straight into the Y.Text.
			codeText(c.doc).insert(0, "a = 1\r\nb = 2\rc = 3\r\n");
			await eventually(() => storedCovers(c));
			await first.stop("SIGKILL");
			running.splice(running.indexOf(first), 1);
			c.destroy();

			const second = await spawnServer(e);
			running.push(second);
			const again = await connectClient(second.wsUrl, session.id, u.token);
			clients.push(again);
			expect(readCode(again.doc)).toBe("a = 1\nb = 2\nc = 3\n");
			// An edit at an editor's offset lands on the line it was typed on.
			codeText(again.doc).insert("a = 1\n".length, "#");
			expect(readCode(again.doc)).toBe("a = 1\n#b = 2\nc = 3\n");
		}, 120_000);
	});
}
