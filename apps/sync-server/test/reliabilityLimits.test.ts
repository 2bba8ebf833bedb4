import { monitorEventLoopDelay } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";
import {
	codeText,
	decodeDocument,
	inspectUpdate,
	MAX_CODE_CHARS,
	MAX_DELETE_RANGES_PER_UPDATE,
	MAX_DOCUMENT_BYTES,
	MAX_HIDDEN_TESTS_BYTES,
	MAX_STRUCTS_PER_UPDATE,
	MAX_TEST_FIELD_BYTES,
	MAX_TESTS_PER_SESSION,
	ROOT_NAMES,
	readCode,
} from "@tandem/crdt-schema";
import { BullRunQueue } from "@tandem/run-queue";
import { eq } from "drizzle-orm";
import * as encoding from "lib0/encoding";
import { nanoid } from "nanoid";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { DocumentTooLarge, UpdateTooCostly } from "../src/collab/closeEvents.ts";
import { documents } from "../src/db/schema.ts";
import { runRouteGroup } from "../src/runs/runRouteGroup.ts";
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

// The server's own handling of each attack is a few milliseconds (the bomb is refused at its first foreign
// root); the frames (up to 0.8 MB) are masked and unmasked in this one process, and a shared 2-core CI
// machine at load 30 preempts it (0.1-0.5 s seen), so the quietest of up to 3 passes counts (as in
// reliabilityGarbage.test.ts). Unguarded, the 60,000-root bomb stalls the loop for minutes (the test hangs).
const LAG_BOUND_MS = 500;
// Heap (plus buffers) the server may keep after the size attacks, measured after a full GC. Unguarded,
// the same attack leaves a 20 MB document that costs hundreds of MB (issue 11: 800 MB for 19.5 MB).
// The size attacks move MB-sized frames: this process masks them (the attacker's client) and copies and
// unmasks them (the server) before any check can refuse one, and a loaded 2-core machine (load 30 while
// this was written) runs that slowly: 0.3-1.3 s seen. Unguarded, the document grows past every limit and
// each store and join encodes all of it (the issue: 800 MB and an OOM kill at 78 MB).
const SIZE_LAG_BOUND_MS = 2500;
const MEMORY_GROWTH_BOUND_BYTES = 64 * 1024 * 1024;

let s: RunningServer;
let queue: BullRunQueue;
// Postgres, not embedded PGlite: PGlite stores run on this process's main thread, and the lag measured
// here is the server's handling of the attack.
const dbName = `tandem_limits_${nanoid(8)
	.toLowerCase()
	.replace(/[^a-z0-9]/g, "x")}`;
const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
let owner: Awaited<ReturnType<typeof registerUser>>;
const clients: CollabClient[] = [];

beforeAll(async () => {
	queue = new BullRunQueue({ redisUrl: TEST_REDIS_URL, prefix: `limits-${nanoid(8)}` });
	await admin.unsafe(`CREATE DATABASE "${dbName}"`);
	s = await startTestServer({ DATABASE_URL: databaseUrl(dbName) }, { routes: [runRouteGroup({ queue })] });
	owner = await registerUser(s.url, "limits");
}, 240_000);
afterAll(async () => {
	for (const c of clients) c.destroy();
	await s?.close();
	await queue?.close();
	await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
	await admin.end();
});

/** y-protocols sync message: [document][Sync=0][step][varUint8Array payload]. */
function syncMessage(documentName: string, step: number, payload: Uint8Array): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarString(e, documentName);
	encoding.writeVarUint(e, 0);
	encoding.writeVarUint(e, step);
	encoding.writeVarUint8Array(e, payload);
	return encoding.toUint8Array(e);
}

/**
 * One update creating `n` root Y.Maps named r0, r1, ... (one item each, as a hostile client writes them),
 * built byte by byte: encoding it through a Y.Doc is itself the quadratic stall.
 */
function rootBomb(n: number, client = 4_242_424): Uint8Array {
	const e = new Y.UpdateEncoderV1();
	encoding.writeVarUint(e.restEncoder, 1);
	encoding.writeVarUint(e.restEncoder, n);
	e.writeClient(client);
	encoding.writeVarUint(e.restEncoder, 0);
	for (let i = 0; i < n; i++) {
		e.writeInfo(7); // ContentType, no origins: parent info follows
		e.writeParentInfo(true);
		e.writeString(`r${i}`);
		e.writeTypeRef(1); // Y.Map
	}
	encoding.writeVarUint(e.restEncoder, 0); // empty delete set
	return e.toUint8Array();
}

/** An update of `n` one-clock GC structs of a new client: valid, cheap per struct, and too many of them. */
function manyStructs(n: number, client = 5_151_515): Uint8Array {
	const e = new Y.UpdateEncoderV1();
	encoding.writeVarUint(e.restEncoder, 1);
	encoding.writeVarUint(e.restEncoder, n);
	e.writeClient(client);
	encoding.writeVarUint(e.restEncoder, 0);
	for (let i = 0; i < n; i++) {
		e.writeInfo(0);
		e.writeLen(1);
	}
	encoding.writeVarUint(e.restEncoder, 0);
	return e.toUint8Array();
}

/** An update with no structs and `n` one-clock delete ranges of one client. */
function manyDeletes(n: number, client = 6_161_616): Uint8Array {
	const e = new Y.UpdateEncoderV1();
	encoding.writeVarUint(e.restEncoder, 0);
	encoding.writeVarUint(e.restEncoder, 1);
	e.resetDsCurVal();
	encoding.writeVarUint(e.restEncoder, client);
	encoding.writeVarUint(e.restEncoder, n);
	for (let i = 0; i < n; i++) {
		e.writeDsClock(i * 2);
		e.writeDsLen(1);
	}
	return e.toUint8Array();
}

function updateOf(change: (doc: Y.Doc) => void): Uint8Array {
	const doc = new Y.Doc();
	change(doc);
	return Y.encodeStateAsUpdate(doc);
}

/** Connect an attacker, send one raw frame, resolve with the reason the server closes the document with. */
async function sendRaw(sessionId: string, payload: Uint8Array): Promise<string> {
	const attacker = await connectClient(s.wsUrl, sessionId, owner.token);
	try {
		const closed = new Promise<string>((resolve) =>
			attacker.provider.on("close", ({ event }: { event: { reason: string } }) => resolve(event.reason)),
		);
		const ws = attacker.socket.webSocket;
		if (!ws) throw new Error("attacker socket not open");
		ws.send(syncMessage(sessionId, 2, payload));
		return await closed;
	} finally {
		attacker.destroy();
	}
}

/** Run `attack` up to 3 times with the event-loop delay measured; the smallest maximum lag (ms). */
async function quietestLag(attack: (pass: number) => Promise<void>, boundMs = LAG_BOUND_MS): Promise<number[]> {
	const lags: number[] = [];
	for (let pass = 0; pass < 3 && !lags.some((ms) => ms < boundMs); pass++) {
		const lag = monitorEventLoopDelay({ resolution: 10 });
		lag.enable();
		try {
			await attack(pass);
		} finally {
			lag.disable();
		}
		lags.push(lag.max / 1e6);
	}
	return lags;
}

function liveDoc(sessionId: string): Y.Doc {
	const doc = s.server.hocuspocus.documents.get(sessionId);
	if (!doc) throw new Error("document not loaded");
	return doc;
}

describe("root types and structure per update (RELIABILITY 43)", () => {
	it("RELIABILITY 43: an update creating 60,000 root types, a foreign root, a subdocument, too many structs or deletes is refused before it is applied; the loop stays responsive and others keep syncing", async () => {
		const sessionId = (await createSession(s.url, owner.token, { code: "base\n" })).id;
		const alice = await connectClient(s.wsUrl, sessionId, owner.token);
		const bob = await connectClient(s.wsUrl, sessionId, owner.token);
		clients.push(alice, bob);
		const cases: Array<{ name: string; update: () => Uint8Array; reason: string }> = [
			{ name: "60,000 root types (0.8 MB)", update: () => rootBomb(60_000), reason: UpdateTooCostly.reason },
			{
				name: "one root outside the SPEC",
				update: () => updateOf((d) => d.getMap("evil").set("x", 1)),
				reason: UpdateTooCostly.reason,
			},
			{
				name: "a subdocument in meta",
				update: () => updateOf((d) => d.getMap("meta").set("sub", new Y.Doc())),
				reason: UpdateTooCostly.reason,
			},
			{
				name: "one struct over the per-update bound",
				update: () => manyStructs(MAX_STRUCTS_PER_UPDATE + 1),
				reason: UpdateTooCostly.reason,
			},
			{
				name: "one delete range over the per-update bound",
				update: () => manyDeletes(MAX_DELETE_RANGES_PER_UPDATE + 1),
				reason: UpdateTooCostly.reason,
			},
		];
		let round = 0;
		const lags = await quietestLag(async () => {
			for (const c of cases) {
				const reason = await sendRaw(sessionId, c.update());
				expect({ case: c.name, reason }).toEqual({ case: c.name, reason: c.reason });
				const marker = `<${round++}>`;
				codeText(alice.doc).insert(codeText(alice.doc).length, marker);
				await eventually(() => readCode(bob.doc).includes(marker));
				expect((await api(s.url, "GET", "/livez")).status).toBe(200);
				expect((await api(s.url, "GET", `/session/${sessionId}`, { token: owner.token })).status).toBe(200);
			}
		});
		expect(Math.min(...lags), `max event-loop lag per pass: ${lags.join(", ")} ms`).toBeLessThan(LAG_BOUND_MS);
		const expected = `base\n${Array.from({ length: round }, (_, i) => `<${i}>`).join("")}`;
		expect(readCode(bob.doc)).toBe(expected);
		const doc = liveDoc(sessionId);
		expect(readCode(doc)).toBe(expected);
		for (const name of doc.share.keys()) expect(ROOT_NAMES).toContain(name);
		for (const name of bob.doc.share.keys()) expect(ROOT_NAMES).toContain(name);
	}, 180_000);

	it("RELIABILITY 43: a document stored with 20,000 foreign roots loads without them; REST reads, joins and stores stay responsive", async () => {
		const sessionId = (await createSession(s.url, owner.token, { code: "keep me\n" })).id;
		const [row] = await s.server.ctx.db
			.select({ state: documents.state })
			.from(documents)
			.where(eq(documents.sessionId, sessionId));
		if (!row?.state) throw new Error("session has no stored state");
		const poisoned = Y.mergeUpdates([row.state, rootBomb(20_000)]);
		await s.server.ctx.db.update(documents).set({ state: poisoned }).where(eq(documents.sessionId, sessionId));

		const lags = await quietestLag(async (pass) => {
			const view = await api(s.url, "GET", `/session/${sessionId}`, { token: owner.token });
			expect(view.status).toBe(200);
			expect(view.body.code.startsWith("keep me\n")).toBe(true);
			const joiner = await connectClient(s.wsUrl, sessionId, owner.token);
			try {
				expect(readCode(joiner.doc).startsWith("keep me\n")).toBe(true);
				for (const name of joiner.doc.share.keys()) expect(ROOT_NAMES).toContain(name);
				codeText(joiner.doc).insert(codeText(joiner.doc).length, `+${pass}`);
				// Stored: appended to the update log beside the (poisoned) snapshot (decision 053).
				await eventually(async () => {
					const after = await s.server.ctx.store.loadDocument(sessionId);
					return after ? readCode(decodeDocument(after)).endsWith(`+${pass}`) : false;
				});
			} finally {
				joiner.destroy();
			}
		});
		expect(Math.min(...lags), `max event-loop lag per pass: ${lags.join(", ")} ms`).toBeLessThan(LAG_BOUND_MS);
		// Compaction rewrites the snapshot without the foreign roots, keeping the session's own text.
		await s.server.ctx.store.compactDocument(sessionId);
		const [stored] = await s.server.ctx.db
			.select({ state: documents.state })
			.from(documents)
			.where(eq(documents.sessionId, sessionId));
		if (!stored?.state) throw new Error("no stored state");
		const shape = inspectUpdate(stored.state, {
			maxStructs: Number.MAX_SAFE_INTEGER,
			maxDeleteRanges: Number.MAX_SAFE_INTEGER,
		});
		for (const name of shape.roots) expect(ROOT_NAMES).toContain(name);
	}, 180_000);
});

/** Heap and buffers after a full collection (Node's gc, exposed for this process). */
function retainedBytes(): number {
	v8.setFlagsFromString("--expose-gc");
	const gc = vm.runInNewContext("gc") as () => void;
	gc();
	gc();
	const m = process.memoryUsage();
	return m.heapUsed + m.arrayBuffers;
}

describe("document size limits on every path (RELIABILITY 39, 44)", () => {
	it("RELIABILITY 44: socket updates past MAX_DOCUMENT_BYTES are refused with a close the provider does not reconnect on; memory stays bounded and others keep syncing", async () => {
		const sessionId = (await createSession(s.url, owner.token, { code: "small\n" })).id;
		const alice = await connectClient(s.wsUrl, sessionId, owner.token);
		const bob = await connectClient(s.wsUrl, sessionId, owner.token);
		clients.push(alice, bob);
		let upgrades = 0;
		const countUpgrade = () => upgrades++;
		s.server.app.server.on("upgrade", countUpgrade);
		const before = retainedBytes();

		/** A fresh attacker inserts `text`; resolves "accepted" or the reason its document connection was closed with. */
		const attack = async (text: string): Promise<string> => {
			const attacker = await connectClient(s.wsUrl, sessionId, owner.token);
			try {
				let closedWith: string | null = null;
				attacker.provider.on("close", ({ event }: { event: { reason: string } }) => {
					closedWith = event.reason;
				});
				const socketsBefore = upgrades;
				const length = codeText(liveDoc(sessionId)).length;
				codeText(attacker.doc).insert(0, text);
				await eventually(() => closedWith !== null || codeText(liveDoc(sessionId)).length > length);
				if (closedWith === null) return "accepted";
				// The document connection ends; the socket stays open and the provider does not reconnect.
				expect(attacker.socket.webSocket?.readyState).toBe(1);
				expect(upgrades).toBe(socketsBefore);
				return closedWith;
			} finally {
				attacker.destroy();
			}
		};
		const othersStillSync = async (marker: string) => {
			codeText(alice.doc).insert(0, marker);
			await eventually(() => readCode(bob.doc).startsWith(marker));
		};

		// One update larger than a document may be (one frame, under the 2 MiB frame cap).
		expect(await attack("y".repeat(Math.round(MAX_DOCUMENT_BYTES * 1.5)))).toBe(DocumentTooLarge.reason);
		await othersStillSync("<0>");
		// Growth by updates of 40% of the limit stops at the document limit.
		const chunk = "x".repeat(Math.round(MAX_DOCUMENT_BYTES * 0.4));
		let accepted = 0;
		for (let i = 0; i < 6 && (await attack(chunk)) === "accepted"; i++) accepted++;
		expect(accepted).toBe(2);
		await othersStillSync("<1>");
		expect(Y.encodeStateAsUpdate(liveDoc(sessionId)).length).toBeLessThanOrEqual(MAX_DOCUMENT_BYTES);

		// The attack repeated against the full document, as raw frames built beforehand (the attacker's own
		// Yjs work is not the server's): refused each time, the loop stays responsive.
		const frames = [
			updateOf((d) => codeText(d).insert(0, chunk)),
			updateOf((d) => codeText(d).insert(0, "z".repeat(Math.round(MAX_DOCUMENT_BYTES * 1.5)))),
		];
		let round = 2;
		const lags = await quietestLag(async () => {
			for (let i = 0; i < 4; i++) {
				const socketsBefore = upgrades;
				expect(await sendRaw(sessionId, frames[i % 2] as Uint8Array)).toBe(DocumentTooLarge.reason);
				expect(upgrades).toBe(socketsBefore + 1); // the attacker's one socket, never a reconnect
				await othersStillSync(`<${round++}>`);
			}
		}, SIZE_LAG_BOUND_MS);
		s.server.app.server.off("upgrade", countUpgrade);
		expect(Math.min(...lags), `max event-loop lag per pass: ${lags.join(", ")} ms`).toBeLessThan(SIZE_LAG_BOUND_MS);
		expect(Y.encodeStateAsUpdate(liveDoc(sessionId)).length).toBeLessThanOrEqual(MAX_DOCUMENT_BYTES);
		const grown = retainedBytes() - before;
		expect(grown, `retained growth ${Math.round(grown / 1024 / 1024)} MiB`).toBeLessThan(MEMORY_GROWTH_BOUND_BYTES);
	}, 240_000);

	it("RELIABILITY 44: REST refuses code, test fields, test counts and documents past their limits with 400/413 and words", async () => {
		const longCode = await api(s.url, "POST", "/create-session", {
			token: owner.token,
			body: { code: "a".repeat(MAX_CODE_CHARS + 1) },
		});
		expect(longCode.status).toBe(400);
		expect(longCode.body.error.message).toContain(String(MAX_CODE_CHARS));

		const sessionId = (await createSession(s.url, owner.token, { code: "tests\n" })).id;
		const add = (body: Record<string, unknown>) =>
			api(s.url, "POST", `/session/${sessionId}/tests`, { token: owner.token, body });
		const field = await add({ name: "big", stdin: "1".repeat(MAX_TEST_FIELD_BYTES + 1), expected: "" });
		expect(field.status).toBe(413);
		expect(field.body.error.message).toContain(`limit is ${MAX_TEST_FIELD_BYTES} bytes`);

		// Visible tests at the field limit fill the document, then the document limit answers 413.
		const half = "2".repeat(MAX_TEST_FIELD_BYTES);
		let documentFull: Awaited<ReturnType<typeof add>> | undefined;
		for (let i = 0; i < 12 && !documentFull; i++) {
			const res = await add({ name: `t${i}`, stdin: half, expected: half });
			if (res.status !== 201) documentFull = res;
		}
		expect(documentFull?.status).toBe(413);
		expect(documentFull?.body.error.message).toContain(`a document holds at most ${MAX_DOCUMENT_BYTES} bytes`);
		const stored = await api(s.url, "GET", `/session/${sessionId}/tests`, { token: owner.token });
		expect(stored.status).toBe(200);
		const doc = s.server.hocuspocus.documents.get(sessionId);
		const state = doc
			? Y.encodeStateAsUpdate(doc)
			: ((
					await s.server.ctx.db
						.select({ state: documents.state })
						.from(documents)
						.where(eq(documents.sessionId, sessionId))
				)[0]?.state ?? new Uint8Array());
		expect(state.length).toBeLessThanOrEqual(MAX_DOCUMENT_BYTES);

		// Hidden tests (server only) have their own byte budget.
		const hiddenSession = (await createSession(s.url, owner.token, {})).id;
		let hiddenFull: Awaited<ReturnType<typeof add>> | undefined;
		for (let i = 0; i < 12 && !hiddenFull; i++) {
			const res = await api(s.url, "POST", `/session/${hiddenSession}/tests`, {
				token: owner.token,
				body: { name: `h${i}`, stdin: half, expected: half, hidden: true },
			});
			if (res.status !== 201) hiddenFull = res;
		}
		expect(hiddenFull?.status).toBe(413);
		expect(hiddenFull?.body.error.message).toContain(`at most ${MAX_HIDDEN_TESTS_BYTES} bytes`);

		// Counting: MAX_TESTS_PER_SESSION tests fit, one more is refused.
		const countSession = (await createSession(s.url, owner.token, {})).id;
		for (let i = 0; i < MAX_TESTS_PER_SESSION; i++) {
			const res = await api(s.url, "POST", `/session/${countSession}/tests`, {
				token: owner.token,
				body: { name: `c${i}`, stdin: "1", expected: "1", hidden: i % 2 === 0 },
			});
			expect(res.status).toBe(201);
		}
		const oneMore = await api(s.url, "POST", `/session/${countSession}/tests`, {
			token: owner.token,
			body: { name: "one more", stdin: "1", expected: "1" },
		});
		expect(oneMore.status).toBe(413);
		expect(oneMore.body.error.message).toContain(`at most ${MAX_TESTS_PER_SESSION}`);
		const visible = await api(s.url, "GET", `/session/${countSession}/tests`, { token: owner.token });
		expect(visible.body).toHaveLength(MAX_TESTS_PER_SESSION);
	}, 240_000);
});
