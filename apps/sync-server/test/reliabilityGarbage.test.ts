import { monitorEventLoopDelay } from "node:perf_hooks";
import { codeText, readCode } from "@tandem/crdt-schema";
import * as encoding from "lib0/encoding";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { MalformedUpdate, UpdateTooCostly } from "../src/collab/closeEvents.ts";
import { MAX_PENDING_CLIENTS } from "../src/collab/updateGuard.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import {
	api,
	createSession,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
} from "./support/testServer.ts";

// RELIABILITY 15: garbage on one socket closes that socket; the server stays responsive
// (event-loop lag under 100 ms) and the document and other clients are unaffected.
const LAG_BOUND_MS = 100;

let s: RunningServer;
let token: string;
let sessionId: string;
const clients: CollabClient[] = [];

beforeAll(async () => {
	s = await startTestServer();
	const owner = await registerUser(s.url, "garbage");
	token = owner.token;
	sessionId = (await createSession(s.url, token, { code: "base\n" })).id;
});
afterAll(async () => {
	for (const c of clients) c.destroy();
	await s?.close();
});

/** y-protocols sync message: [document][Sync=0][step][varUint8Array payload]. */
function syncMessage(step: number, payload: Uint8Array): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarString(e, sessionId);
	encoding.writeVarUint(e, 0);
	encoding.writeVarUint(e, step);
	encoding.writeVarUint8Array(e, payload);
	return encoding.toUint8Array(e);
}

function varUints(values: number[], tail: number[] = []): Uint8Array {
	const e = encoding.createEncoder();
	for (const v of values) encoding.writeVarUint(e, v);
	for (const b of tail) encoding.writeUint8(e, b);
	return encoding.toUint8Array(e);
}

/** An update naming `n` clients, each with one GC struct at clock 5 whose clocks 0-4 the server lacks. */
function manyPendingClients(n: number): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarUint(e, n);
	for (let i = 0; i < n; i++) {
		encoding.writeVarUint(e, 1); // one struct
		encoding.writeVarUint(e, 1_000_000 + i); // client
		encoding.writeVarUint(e, 5); // clock
		encoding.writeUint8(e, 0); // GC
		encoding.writeVarUint(e, 1); // length
	}
	encoding.writeVarUint(e, 0); // empty delete set
	return encoding.toUint8Array(e);
}

function seededBytes(seed: number, length: number): Uint8Array {
	let x = seed;
	const out = new Uint8Array(length);
	for (let i = 0; i < length; i++) {
		x = (x * 1_103_515_245 + 12_345) & 0x7fffffff;
		out[i] = x & 0xff;
	}
	return out;
}

function validUpdate(): Uint8Array {
	const d = new Y.Doc();
	codeText(d).insert(0, "this update is cut short on purpose");
	return Y.encodeStateAsUpdate(d);
}

/**
 * Connect an attacker with a real provider, send one raw frame, resolve with the close reason
 * (Hocuspocus closes a document connection with a protocol CLOSE message carrying the reason).
 */
async function sendGarbage(frame: Uint8Array): Promise<string> {
	const attacker = await connectClient(s.wsUrl, sessionId, token);
	try {
		const closed = new Promise<string>((resolve) =>
			attacker.provider.on("close", ({ event }: { event: { reason: string } }) => resolve(event.reason)),
		);
		const ws = attacker.socket.webSocket;
		if (!ws) throw new Error("attacker socket not open");
		ws.send(frame);
		return await closed;
	} finally {
		attacker.destroy();
	}
}

const cases: Array<{ name: string; frame: () => Uint8Array; reason: string }> = [
	{
		name: "random bytes as a whole frame after the document name",
		frame: () => syncMessage(2, seededBytes(1, 64)),
		reason: MalformedUpdate.reason,
	},
	{
		name: "random bytes as sync step 2",
		frame: () => syncMessage(1, seededBytes(2, 200)),
		reason: MalformedUpdate.reason,
	},
	{
		name: "a truncated update",
		frame: () => syncMessage(2, validUpdate().slice(0, 20)),
		reason: MalformedUpdate.reason,
	},
	{ name: "an empty update (yjs#498)", frame: () => syncMessage(2, new Uint8Array()), reason: MalformedUpdate.reason },
	{
		name: 'base64 "garbagedoc" (yjs#479)',
		frame: () => syncMessage(2, Buffer.from("garbagedoc", "base64")),
		reason: MalformedUpdate.reason,
	},
	{
		name: "a 7-byte update claiming 32 million structs (a 256 MB preallocation in Y.applyUpdate)",
		frame: () => syncMessage(2, varUints([1, 32_000_000, 1, 0])),
		reason: MalformedUpdate.reason,
	},
	{
		name: "a sync message whose update length claims more bytes than the frame holds",
		frame: () => {
			const whole = syncMessage(2, validUpdate());
			return whole.slice(0, whole.length - 10);
		},
		reason: MalformedUpdate.reason,
	},
	{
		name: "an update with 60,000 clients of missing history (minutes of quadratic pending integration unguarded)",
		frame: () => syncMessage(2, manyPendingClients(60_000)),
		reason: UpdateTooCostly.reason,
	},
	{
		name: "an update with just over the pending-client bound",
		frame: () => syncMessage(1, manyPendingClients(MAX_PENDING_CLIENTS + 1)),
		reason: UpdateTooCostly.reason,
	},
];

describe("garbage on a collaboration socket (RELIABILITY 15)", () => {
	it("closes that socket, keeps event-loop lag under 100 ms, and leaves the document and other clients unaffected", async () => {
		const alice = await connectClient(s.wsUrl, sessionId, token);
		const bob = await connectClient(s.wsUrl, sessionId, token);
		clients.push(alice, bob);
		const legitimate = [
			...Y.decodeStateVector(Y.encodeStateVector(alice.doc)).keys(),
			alice.doc.clientID,
			bob.doc.clientID,
		];
		// The bound is on the server's own handling; on a shared 2-core CI machine another process can
		// preempt this one for longer than that, so a pass repeats (up to 3 times) and the quietest pass
		// counts. An unguarded case stalls the loop for seconds to minutes in every pass.
		let round = 0;
		const passLags: number[] = [];
		for (let pass = 0; pass < 3 && !passLags.some((ms) => ms < LAG_BOUND_MS); pass++) {
			const lag = monitorEventLoopDelay({ resolution: 10 });
			lag.enable();
			try {
				for (const c of cases) {
					const reason = await sendGarbage(c.frame());
					expect({ case: c.name, reason }).toEqual({ case: c.name, reason: c.reason });
					// The server still serves: other clients' edits flow both ways, /livez answers.
					const marker = `<${round++}>`;
					const writer = round % 2 === 0 ? alice : bob;
					const reader = writer === alice ? bob : alice;
					codeText(writer.doc).insert(codeText(writer.doc).length, marker);
					await eventually(() => readCode(reader.doc).includes(marker));
					expect((await api(s.url, "GET", "/livez")).status).toBe(200);
				}
			} finally {
				lag.disable();
			}
			passLags.push(lag.max / 1e6);
		}
		expect(Math.min(...passLags), `max event-loop lag per pass: ${passLags.join(", ")} ms`).toBeLessThan(LAG_BOUND_MS);

		const expected = `base\n${Array.from({ length: round }, (_, i) => `<${i}>`).join("")}`;
		expect(readCode(alice.doc)).toBe(expected);
		expect(readCode(bob.doc)).toBe(expected);
		const serverDoc = s.server.hocuspocus.documents.get(sessionId);
		if (!serverDoc) throw new Error("document unloaded while clients are connected");
		expect(readCode(serverDoc)).toBe(expected);
		// Nothing of the garbage reached the document: no pending structs, no roots it named.
		expect(serverDoc.store.pendingStructs).toBeNull();
		expect(serverDoc.store.pendingDs).toBeNull();
		for (const client of serverDoc.store.clients.keys()) expect(legitimate).toContain(client);
	}, 60_000);
});
