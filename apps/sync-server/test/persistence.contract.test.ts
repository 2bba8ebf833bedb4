import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
	codeText,
	decodeDocument,
	encodeDocument,
	readCode,
	seedDocument,
	setLanguage,
	setTitle,
} from "@tandem/crdt-schema";
import { and, asc, eq, not, sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { insertUser } from "../src/auth/users.ts";
import { type Database, openDatabase } from "../src/db/database.ts";
import { documentUpdates } from "../src/db/schema.ts";
import type { DocumentStore } from "../src/persistence/DocumentStore.ts";
import { drizzleDocumentStore } from "../src/persistence/drizzleDocumentStore.ts";
import { findSession, insertSession } from "../src/sessions/sessionRepository.ts";
import { TEST_DATABASE_URL } from "./support/testServer.ts";

interface Harness {
	database: Database;
	cleanup(): Promise<void>;
}

async function pgliteHarness(): Promise<Harness> {
	const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-pglite-"));
	const database = openDatabase({ url: undefined, dataDir: dir });
	return {
		database,
		async cleanup() {
			await database.close();
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

async function postgresHarness(): Promise<Harness> {
	const schema = `persist_${Math.random().toString(36).slice(2, 10)}`;
	const database = openDatabase({ url: TEST_DATABASE_URL, dataDir: os.tmpdir(), schema });
	return {
		database,
		async cleanup() {
			await database.close();
			const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
			await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
			await admin.end();
		},
	};
}

/** The same DocumentStore contract against every implementation (STYLE: contract suites). */
for (const [name, make] of [
	["PGlite", pgliteHarness],
	["Postgres", postgresHarness],
] as const) {
	describe(`DocumentStore contract: ${name}`, () => {
		let h: Harness;
		let store: DocumentStore;
		let ownerId: string;
		let n = 0;

		async function newSession(): Promise<string> {
			n++;
			const id = `contract_session_${n}_${"x".repeat(8)}`;
			await insertSession(h.database.db, { id, ownerId, title: "", code: "", language: "python", state: null });
			return id;
		}

		beforeAll(async () => {
			h = await make();
			await h.database.migrate();
			// Migrating twice is a no-op.
			await h.database.migrate();
			store = drizzleDocumentStore(h.database.db);
			ownerId = (await insertUser(h.database.db, { username: "owner", email: "owner@example.test", passwordHash: "x" }))
				.id;
		});
		afterAll(async () => {
			await h?.cleanup();
		});

		it("returns null for a document never stored", async () => {
			expect(await store.loadDocument(await newSession())).toBeNull();
		});

		it("round-trips the exact Yjs binary state (SPEC CS6)", async () => {
			const id = await newSession();
			const doc = new Y.Doc();
			seedDocument(doc, { code: "print('hi')\n", language: "python", title: "T" });
			codeText(doc).insert(0, "# héllo ✓\n");
			const state = encodeDocument(doc);
			await store.storeDocument(id, state, { code: readCode(doc), language: "python", title: "T" });
			const loaded = await store.loadDocument(id);
			expect(loaded).toBeInstanceOf(Uint8Array);
			expect(Buffer.from(loaded as Uint8Array).equals(Buffer.from(state))).toBe(true);
			const again = new Y.Doc();
			Y.applyUpdate(again, loaded as Uint8Array);
			expect(readCode(again)).toBe("# héllo ✓\nprint('hi')\n");
			// Same client ids and clocks: the loaded doc has exactly the stored state vector.
			expect(Y.encodeStateVector(again)).toEqual(Y.encodeStateVector(doc));
		});

		it("merges the states of each store and refreshes the session's plain columns", async () => {
			const id = await newSession();
			const doc = new Y.Doc();
			seedDocument(doc, { code: "a", language: "go", title: "first" });
			await store.storeDocument(id, encodeDocument(doc), { code: "a", language: "go", title: "first" });
			codeText(doc).insert(1, "b");
			setLanguage(doc, "rust");
			setTitle(doc, "second");
			await store.storeDocument(id, encodeDocument(doc), { code: "ab", language: "rust", title: "second" });
			const loaded = new Y.Doc();
			Y.applyUpdate(loaded, (await store.loadDocument(id)) as Uint8Array);
			expect(readCode(loaded)).toBe("ab");
			const row = await findSession(h.database.db, id);
			expect(row).toMatchObject({ code: "ab", language: "rust", title: "second" });
		});

		it("RELIABILITY 37: stores and merges a document whose code and title hold NUL, CR and U+0010, in the row too", async () => {
			const id = await newSession();
			const hard = "a\u0000b\u0010c\u00100\r\n😀";
			const doc = new Y.Doc();
			seedDocument(doc, { code: "x", language: "python", title: hard });
			codeText(doc).insert(1, hard);
			const summary = { code: readCode(doc), language: "python", title: hard };
			await store.storeDocument(id, encodeDocument(doc), summary);
			// The second store merges with the first (the path that rebuilt the plain columns).
			codeText(doc).insert(0, "\u0000");
			await store.storeDocument(id, encodeDocument(doc), { ...summary, code: readCode(doc) });
			const loaded = new Y.Doc();
			Y.applyUpdate(loaded, (await store.loadDocument(id)) as Uint8Array);
			expect(readCode(loaded)).toBe(`\u0000x${hard}`);
			expect(await findSession(h.database.db, id)).toMatchObject({ code: `\u0000x${hard}`, title: hard });
		});

		it("never loses what another node stored: a store merges into the stored state", async () => {
			const id = await newSession();
			const base = new Y.Doc();
			seedDocument(base, { code: "base", language: "python" });
			const nodeA = new Y.Doc();
			const nodeB = new Y.Doc();
			Y.applyUpdate(nodeA, encodeDocument(base));
			Y.applyUpdate(nodeB, encodeDocument(base));
			codeText(nodeA).insert(0, "A-");
			codeText(nodeB).insert(4, "-B");
			await store.storeDocument(id, encodeDocument(nodeA), { code: readCode(nodeA), language: "python", title: "" });
			// Node B has not received A's edit yet; its store must not erase it.
			await store.storeDocument(id, encodeDocument(nodeB), { code: readCode(nodeB), language: "python", title: "" });
			const loaded = new Y.Doc();
			Y.applyUpdate(loaded, (await store.loadDocument(id)) as Uint8Array);
			expect(readCode(loaded)).toBe("A-base-B");
			// Compaction folds both into the snapshot and writes the merged code to the session row.
			expect(await store.compactDocument(id)).toEqual({ merged: 2, pruned: 0 });
			expect((await findSession(h.database.db, id))?.code).toBe("A-base-B");
			// Storing the same state again changes nothing (idempotent merge).
			await store.storeDocument(id, encodeDocument(nodeB), { code: readCode(nodeB), language: "python", title: "" });
			const again = new Y.Doc();
			Y.applyUpdate(again, (await store.loadDocument(id)) as Uint8Array);
			expect(readCode(again)).toBe("A-base-B");
		});

		it("appends only the change: a keystroke in a 100 k-character document stores bytes in proportion to the keystroke (decision 053)", async () => {
			const id = await newSession();
			const doc = new Y.Doc();
			seedDocument(doc, { code: "x = 1\n".repeat(100_000 / 6), language: "python" });
			const full = encodeDocument(doc);
			await store.storeDocument(id, full, { language: "python", title: "" });
			const before = Y.encodeStateVector(doc);
			codeText(doc).insert(50_000, "#");
			const diff = Y.encodeStateAsUpdate(doc, before);
			await store.storeDocument(id, diff, { language: "python", title: "" });
			const rows = await h.database.db
				.select({ bytes: sql<number>`octet_length(${documentUpdates.update})` })
				.from(documentUpdates)
				.where(eq(documentUpdates.sessionId, id))
				.orderBy(asc(documentUpdates.id));
			expect(rows.map((r) => Number(r.bytes))).toEqual([full.byteLength, diff.byteLength]);
			expect(diff.byteLength).toBeLessThan(100);
			const loaded = decodeDocument(await store.loadDocument(id));
			expect(readCode(loaded)).toBe(readCode(doc));
		});

		it("compaction folds the log into the snapshot: the loaded state is the same before and after, and edits appended meanwhile survive", async () => {
			const id = await newSession();
			const doc = new Y.Doc();
			seedDocument(doc, { code: "start\n", language: "python", title: "log" });
			await store.storeDocument(id, encodeDocument(doc), { language: "python", title: "log" });
			for (let i = 0; i < 30; i++) {
				const sv = Y.encodeStateVector(doc);
				codeText(doc).insert(codeText(doc).length, `line ${i}\n`);
				if (i % 7 === 0) codeText(doc).delete(0, 1);
				await store.storeDocument(id, Y.encodeStateAsUpdate(doc, sv), { language: "python", title: "log" });
			}
			const beforeCompaction = readCode(decodeDocument(await store.loadDocument(id)));
			expect(beforeCompaction).toBe(readCode(doc));
			const sv = Y.encodeStateVector(doc);
			codeText(doc).insert(0, "late ");
			const [result] = await Promise.all([
				store.compactDocument(id),
				store.storeDocument(id, Y.encodeStateAsUpdate(doc, sv), { language: "python", title: "log" }),
			]);
			expect(result.merged).toBeGreaterThanOrEqual(31);
			expect(readCode(decodeDocument(await store.loadDocument(id)))).toBe(readCode(doc));
			await store.compactDocument(id);
			const pending = await h.database.db
				.select({ id: documentUpdates.id })
				.from(documentUpdates)
				.where(and(eq(documentUpdates.sessionId, id), not(documentUpdates.compacted)));
			expect(pending).toEqual([]);
			expect(readCode(decodeDocument(await store.loadDocument(id)))).toBe(readCode(doc));
			expect((await findSession(h.database.db, id))?.code).toBe(readCode(doc));
		});

		it("keeps documents of different sessions apart", async () => {
			const a = await newSession();
			const b = await newSession();
			const da = new Y.Doc();
			codeText(da).insert(0, "A");
			const db = new Y.Doc();
			codeText(db).insert(0, "B");
			await store.storeDocument(a, encodeDocument(da), { code: "A", language: "python", title: "" });
			await store.storeDocument(b, encodeDocument(db), { code: "B", language: "python", title: "" });
			const la = new Y.Doc();
			Y.applyUpdate(la, (await store.loadDocument(a)) as Uint8Array);
			expect(readCode(la)).toBe("A");
		});

		it("fails loudly when storing a document of an unknown session, with the foreign-key violation as cause", async () => {
			const error = await store
				.storeDocument("no_such_session_0000000", new Uint8Array([0, 0]), { code: "", language: "python", title: "" })
				.then(
					() => null,
					(e: unknown) => e,
				);
			expect(error).toMatchObject({ code: "store_failed" });
			const codes: unknown[] = [];
			for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause)
				codes.push((e as { code?: unknown }).code);
			expect(codes).toContain("23503");
		});
	});
}
