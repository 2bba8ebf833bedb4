import type { ChildProcess } from "node:child_process";
import { codeText, decodeDocument, metaMap, readCode } from "@tandem/crdt-schema";
import { BullRunQueue } from "@tandem/run-queue";
import { desc, eq } from "drizzle-orm";
import { nanoid } from "nanoid";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { documentUpdates } from "../src/db/schema.ts";
import { stateAt } from "../src/history/historyRepository.ts";
import { drizzleDocumentStore } from "../src/persistence/drizzleDocumentStore.ts";
import { runRouteGroup } from "../src/runs/runRouteGroup.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { startRunner, stopRunner } from "./support/runnerProcess.ts";
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

// Issue 15, CONTRACT "History": a real server on a private Postgres database, a real runner, real
// collaboration clients. Rules cited: SPEC CS11 (events), CS12 (checkpoints), CS13 (authorship), CS14 (restore).
const PREFIX = `history-test-${nanoid(8)}`;
const DB_NAME = `tandem_history_${nanoid(10)
	.toLowerCase()
	.replace(/[^a-z0-9]/g, "x")}`;

type User = Awaited<ReturnType<typeof registerUser>>;
interface Event {
	id: string;
	at: string;
	kind: string;
	userId: string | null;
	[k: string]: unknown;
}

let admin: ReturnType<typeof postgres>;
let runner: ChildProcess;
let queue: BullRunQueue;
let s: RunningServer;
let owner: User;
let editor: User;
let viewer: User;
let stranger: User;
let sessionId: string;
let typist: CollabClient | undefined;

const history = async (token: string) => api(s.url, "GET", `/session/${sessionId}/history`, { token });
const events = async (): Promise<Event[]> => {
	const res = await history(owner.token);
	expect(res.status).toBe(200);
	return res.body.events as Event[];
};

beforeAll(async () => {
	admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
	await admin.unsafe(`CREATE DATABASE ${DB_NAME}`);
	runner = await startRunner(TEST_REDIS_URL, PREFIX);
	queue = new BullRunQueue({ redisUrl: TEST_REDIS_URL, prefix: PREFIX });
	s = await startTestServer({ DATABASE_URL: databaseUrl(DB_NAME) }, { routes: [runRouteGroup({ queue })] });
	owner = await registerUser(s.url, "histowner");
	editor = await registerUser(s.url, "histeditor");
	viewer = await registerUser(s.url, "histviewer");
	stranger = await registerUser(s.url, "histstranger");
	const session = await createSession(s.url, owner.token, { language: "python", code: "print('v1')\n" });
	sessionId = session.id;
	for (const [user, role] of [
		[editor, "editor"],
		[viewer, "viewer"],
	] as const) {
		const invite = await api(s.url, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId, userId: user.user.id, role },
		});
		expect(invite.status).toBe(201);
	}
	const test = await api(s.url, "POST", `/session/${sessionId}/tests`, {
		token: owner.token,
		body: { name: "prints v1", stdin: "", expected: "v1" },
	});
	expect(test.status).toBe(201);
}, 180_000);

afterAll(async () => {
	typist?.destroy();
	await s?.close();
	await queue?.close();
	if (runner) await stopRunner(runner, TEST_REDIS_URL, PREFIX);
	await admin?.unsafe(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
	await admin?.end();
});

describe("CONTRACT History", () => {
	let seedEdit: Event;
	let v2Edit: Event;

	it("SPEC CS11, CS12: the seed is the first edit checkpoint; a join, typed edits and a language switch follow in time order", async () => {
		typist = await connectClient(s.wsUrl, sessionId, editor.token);
		const doc = typist.doc;
		const text = codeText(doc);
		doc.transact(() => {
			text.delete(0, text.length);
			text.insert(0, "print('v2')\n");
		});
		const editedBy = (all: Event[], userId: string) => all.filter((e) => e.kind === "edit" && e.userId === userId);
		await eventually(async () => editedBy(await events(), editor.user.id).length >= 1);
		metaMap(doc).set("language", "javascript");
		doc.transact(() => {
			text.delete(0, text.length);
			text.insert(0, "console.log('v3')\n");
		});
		await eventually(async () => (await events()).some((e) => e.kind === "language"));
		const all = await events();
		const times = all.map((e) => Date.parse(e.at));
		expect([...times].sort((a, b) => a - b)).toEqual(times);
		const edits = all.filter((e) => e.kind === "edit");
		seedEdit = edits[0] as Event;
		expect(seedEdit.userId).toBe(owner.user.id);
		v2Edit = editedBy(all, editor.user.id)[0] as Event;
		expect(all.find((e) => e.kind === "join")).toMatchObject({ userId: editor.user.id });
		expect(all.find((e) => e.kind === "language")).toMatchObject({ userId: editor.user.id, language: "javascript" });
		for (const e of all) expect(typeof e.id).toBe("string");
	}, 120_000);

	it("SPEC CS12: GET /history/{eventId} answers the document as it was at that event", async () => {
		const first = await api(s.url, "GET", `/session/${sessionId}/history/${seedEdit.id}`, { token: owner.token });
		expect(first.status).toBe(200);
		expect(first.body).toEqual({ code: "print('v1')\n", language: "python", at: seedEdit.at });
		const second = await api(s.url, "GET", `/session/${sessionId}/history/${v2Edit.id}`, { token: owner.token });
		expect(second.body).toMatchObject({ code: "print('v2')\n", language: "python" });
		const unknown = await api(s.url, "GET", `/session/${sessionId}/history/edit-999999999`, { token: owner.token });
		expect(unknown.status).toBe(404);
		expect(unknown.body.error.message).toMatch(/No history event/);
		const garbage = await api(s.url, "GET", `/session/${sessionId}/history/%00nope`, { token: owner.token });
		expect([400, 404]).toContain(garbage.status);
	});

	it("owner and interviewers only: 403 for editors, viewers and strangers, 401 without a token, 404 for an unknown session", async () => {
		for (const path of ["history", `history/${seedEdit.id}`, "authorship"]) {
			for (const user of [editor, viewer, stranger]) {
				const res = await api(s.url, "GET", `/session/${sessionId}/${path}`, { token: user.token });
				expect(res.status).toBe(403);
			}
			expect((await api(s.url, "GET", `/session/${sessionId}/${path}`)).status).toBe(401);
			expect((await api(s.url, "GET", `/session/nosuchsession1/${path}`, { token: owner.token })).status).toBe(404);
		}
		const restore = await api(s.url, "POST", `/session/${sessionId}/restore`, {
			token: editor.token,
			body: { eventId: seedEdit.id },
		});
		expect(restore.status).toBe(403);
		const run = await api(s.url, "POST", "/execute-code", {
			token: editor.token,
			body: { sessionId, at: seedEdit.id },
		});
		expect(run.status).toBe(403);
	});

	it("SPEC CS11: POST /execute-code and /run-tests with `at` run the code as it was then, and appear as run and tests events", async () => {
		const run = await api(s.url, "POST", "/execute-code", { token: owner.token, body: { sessionId, at: seedEdit.id } });
		expect(run.status).toBe(200);
		expect(run.body).toMatchObject({ output: "v1\n", status: "ok", language: "python" });
		const tests = await api(s.url, "POST", `/session/${sessionId}/run-tests`, {
			token: owner.token,
			body: { at: seedEdit.id },
		});
		expect(tests.status).toBe(200);
		expect(tests.body).toMatchObject({ passed: 1, total: 1 });
		const both = await api(s.url, "POST", "/execute-code", {
			token: owner.token,
			body: { sessionId, at: seedEdit.id, code: "print(1)" },
		});
		expect(both.status).toBe(400);
		const unknown = await api(s.url, "POST", "/execute-code", {
			token: owner.token,
			body: { sessionId, at: "run-nope" },
		});
		expect(unknown.status).toBe(404);
		await eventually(async () => {
			const all = await events();
			return (
				all.some((e) => e.kind === "run" && e.id === `run-${run.body.id}` && e.status === "ok") &&
				all.some((e) => e.kind === "tests" && e.passed === 1 && e.total === 1)
			);
		});
	}, 120_000);

	it("SPEC CS13: GET /authorship says who typed each character, from the CRDT item ids", async () => {
		await eventually(async () => {
			const res = await api(s.url, "GET", `/session/${sessionId}/authorship`, { token: owner.token });
			return res.status === 200 && res.body.ranges.length > 0;
		});
		const text = codeText((typist as CollabClient).doc);
		text.insert(0, "// é😀\n");
		const expected = "// é😀\nconsole.log('v3')\n";
		// The owner's seed was deleted; everything left was typed through the editor's connection.
		await eventually(async () => {
			const res = await api(s.url, "GET", `/session/${sessionId}/authorship`, { token: owner.token });
			return res.body.ranges.at(-1)?.to === expected.length;
		});
		const res = await api(s.url, "GET", `/session/${sessionId}/authorship`, { token: owner.token });
		expect(res.body.ranges).toEqual([{ from: 0, to: expected.length, userId: editor.user.id }]);
	});

	it("SPEC CS14: POST /restore makes an earlier version a new change everyone sees; history keeps everything before it", async () => {
		const before = await events();
		const res = await api(s.url, "POST", `/session/${sessionId}/restore`, {
			token: owner.token,
			body: { eventId: seedEdit.id },
		});
		expect(res.status).toBe(200);
		const doc = (typist as CollabClient).doc;
		await eventually(() => readCode(doc) === "print('v1')\n" && metaMap(doc).get("language") === "python");
		await eventually(async () => (await events()).some((e) => e.kind === "restore"));
		const after = await events();
		for (const e of before) expect(after.map((x) => x.id)).toContain(e.id);
		expect(after.find((e) => e.kind === "restore")).toMatchObject({ userId: owner.user.id, eventId: seedEdit.id });
		const again = await api(s.url, "GET", `/session/${sessionId}/history/${v2Edit.id}`, { token: owner.token });
		expect(again.body.code).toBe("print('v2')\n");
		const authorship = await api(s.url, "GET", `/session/${sessionId}/authorship`, { token: owner.token });
		expect(authorship.body.ranges).toEqual([{ from: 0, to: "print('v1')\n".length, userId: owner.user.id }]);
		const bad = await api(s.url, "POST", `/session/${sessionId}/restore`, { token: owner.token, body: {} });
		expect(bad.status).toBe(400);
	});

	it("SPEC CS11: leaving is recorded", async () => {
		typist?.destroy();
		typist = undefined;
		await eventually(async () => (await events()).some((e) => e.kind === "leave" && e.userId === editor.user.id));
	});
});

describe("bounded history", () => {
	it("SPEC CS12: pruned checkpoints fold into the history base, so every kept point still rebuilds exactly", async () => {
		const { id } = await createSession(s.url, owner.token, { language: "python", code: "a\n" });
		const db = s.server.ctx.db;
		const store = drizzleDocumentStore(db, { historyRowsPerSession: 3 });
		const doc = decodeDocument(await store.loadDocument(id));
		const expected = new Map<number, string>();
		for (let i = 0; i < 6; i++) {
			const sv = Y.encodeStateVector(doc);
			codeText(doc).insert(codeText(doc).length, `line ${i}\n`);
			if (i % 2 === 1) codeText(doc).delete(0, 1);
			await store.storeDocument(id, Y.encodeStateAsUpdate(doc, sv), { language: "python" });
			const [last] = await db
				.select({ id: documentUpdates.id })
				.from(documentUpdates)
				.where(eq(documentUpdates.sessionId, id))
				.orderBy(desc(documentUpdates.id))
				.limit(1);
			expected.set(last?.id as number, readCode(doc));
		}
		const result = await store.compactDocument(id);
		expect(result.pruned).toBe(4);
		const kept = await db
			.select({ id: documentUpdates.id })
			.from(documentUpdates)
			.where(eq(documentUpdates.sessionId, id));
		expect(kept).toHaveLength(3);
		for (const { id: row } of kept) {
			expect((await stateAt(db, id, `edit-${row}`)).code).toBe(expected.get(row));
		}
		const listed = await api(s.url, "GET", `/session/${id}/history`, { token: owner.token });
		expect(listed.body.events.filter((e: Event) => e.kind === "edit")).toHaveLength(3);
	});
});
