// Issue "Benchmarks" part 1: the automerge-paper trace typed by one client through Tandem's
// sync server to a second client and into storage, beside the same trace on a bare Y.Doc.
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { HocuspocusProvider } from "@hocuspocus/provider";
import { codeText, decodeDocument, readCode } from "@tandem/crdt-schema";
import WebSocket from "ws";
import * as Y from "yjs";
import { startTandem } from "./harness/childServers.ts";
import { applyEdits, type EditingTrace, loadTrace } from "./harness/editingTrace.ts";
import { sampleProcess } from "./harness/processStats.ts";
import { fmt, fmtBytes, table } from "./harness/stats.ts";
import { frameBytes } from "./harness/syncWire.ts";
import { createSession, getSession, registerUser } from "./harness/tandemApi.ts";

const SMOKE_EDITS = 5_000;
// Edits applied per event-loop turn: the socket gets a chance to drain between slices.
const SLICE_EDITS = 128;
// Pause for the server's acknowledgement of every update this often, so at most this many
// updates are ever in flight (a typist is never further ahead of the server than that).
const ACK_EVERY_EDITS = 8_192;
// Stop feeding the socket while more than this is queued in it.
const MAX_BUFFERED_BYTES = 1 << 20;

/** Byte and message counters of one client's WebSocket (payload plus frame headers). */
interface WireCounter {
	sentBytes: number;
	receivedBytes: number;
	sentMessages: number;
	receivedMessages: number;
}

function countingWebSocket(counter: WireCounter): unknown {
	return class CountingWebSocket extends WebSocket {
		constructor(url: string | URL, protocols?: string | string[]) {
			super(url, protocols);
			this.addEventListener("message", (event) => {
				const data = event.data as ArrayBuffer | Buffer;
				counter.receivedBytes += frameBytes(data.byteLength, false);
				counter.receivedMessages += 1;
			});
		}
		override send(data: ArrayBufferLike | ArrayBufferView, ...rest: unknown[]): void {
			counter.sentBytes += frameBytes((data as ArrayBufferView).byteLength, true);
			counter.sentMessages += 1;
			(super.send as (d: unknown, ...r: unknown[]) => void)(data, ...rest);
		}
	};
}

function newCounter(): WireCounter {
	return { sentBytes: 0, receivedBytes: 0, sentMessages: 0, receivedMessages: 0 };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function waitFor(
	check: () => boolean,
	emitter: { on(e: string, f: () => void): unknown; off(e: string, f: () => void): unknown },
	event: string,
): Promise<void> {
	if (check()) return Promise.resolve();
	return new Promise((resolve) => {
		const listener = () => {
			if (!check()) return;
			emitter.off(event, listener);
			resolve();
		};
		emitter.on(event, listener);
	});
}

interface BareResult {
	readonly ms: number;
	readonly v1Bytes: number;
	readonly v2Bytes: number;
}

/** The trace on a bare Y.Doc, one transaction per keystroke, no listeners. */
function runBareYjs(trace: EditingTrace): BareResult {
	const doc = new Y.Doc();
	const started = performance.now();
	applyEdits(doc, trace.edits);
	const ms = performance.now() - started;
	if (codeText(doc).toString() !== trace.endContent) throw new Error("bare Yjs replay does not give endContent");
	const result = {
		ms,
		v1Bytes: Y.encodeStateAsUpdate(doc).byteLength,
		v2Bytes: Y.encodeStateAsUpdateV2(doc).byteLength,
	};
	doc.destroy();
	return result;
}

/** The trace on one Y.Doc whose every update is applied to a second Y.Doc in memory (no network). */
function runTwoDocsInMemory(trace: EditingTrace): number {
	const a = new Y.Doc();
	const b = new Y.Doc();
	a.on("update", (update: Uint8Array) => Y.applyUpdate(b, update));
	const started = performance.now();
	applyEdits(a, trace.edits);
	const ms = performance.now() - started;
	if (codeText(b).toString() !== trace.endContent) throw new Error("in-memory relay does not give endContent");
	a.destroy();
	b.destroy();
	return ms;
}

interface TandemResult {
	readonly mode: string;
	readonly sentMs: number;
	readonly convergedMs: number;
	readonly storedMs: number;
	readonly writer: WireCounter;
	readonly reader: WireCounter;
	readonly restEqual: boolean;
	readonly storedEqual: boolean;
	readonly storedBytes: number;
	readonly serverCpuMs: number;
	readonly serverRssBytes: number;
}

/**
 * Type the trace with a HocuspocusProvider through a fresh Tandem server (embedded PGlite
 * deployment) to a second provider, wait for the server's "stored" notice covering the
 * writer's state, compare the REST view, then stop the server and decode the stored state.
 */
async function runTandem(trace: EditingTrace, mode: "keystroke" | "batched"): Promise<TandemResult> {
	const server = await startTandem({ keepData: true });
	try {
		const account = await registerUser(server.httpUrl, "trace");
		const sessionId = await createSession(server.httpUrl, account.token, "automerge-paper");
		const url = server.socketUrl(sessionId);
		const writerCounter = newCounter();
		const readerCounter = newCounter();
		// flushDelay false: one message per keystroke; 16 ms (one display frame): the provider merges
		// the updates of each window into one message.
		const flushDelay = mode === "keystroke" ? false : 16;
		const storedVectors: Map<number, number>[] = [];
		const writer = new HocuspocusProvider({
			url,
			name: sessionId,
			token: account.token,
			WebSocketPolyfill: countingWebSocket(writerCounter),
			flushDelay,
			onStateless: ({ payload }) => {
				const message = JSON.parse(payload) as { type?: string; stateVector?: string };
				if (message.type === "stored" && message.stateVector) {
					storedVectors.push(Y.decodeStateVector(Buffer.from(message.stateVector, "base64")));
				}
			},
		} as ConstructorParameters<typeof HocuspocusProvider>[0]);
		const reader = new HocuspocusProvider({
			url,
			name: sessionId,
			token: account.token,
			WebSocketPolyfill: countingWebSocket(readerCounter),
		} as ConstructorParameters<typeof HocuspocusProvider>[0]);
		await Promise.all([
			waitFor(() => writer.isSynced, writer, "synced"),
			waitFor(() => reader.isSynced, reader, "synced"),
		]);
		const readerText = codeText(reader.document);
		const converged = waitFor(
			() => readerText.length === trace.endContent.length && readerText.toString() === trace.endContent,
			reader.document as unknown as { on(e: string, f: () => void): unknown; off(e: string, f: () => void): unknown },
			"update",
		);
		const socket = () =>
			(writer.configuration.websocketProvider as unknown as { webSocket: WebSocket | null }).webSocket;
		const cpuBefore = sampleProcess(server.pid).cpuMicros;
		const started = performance.now();
		for (let from = 0; from < trace.edits.length; from += SLICE_EDITS) {
			const to = Math.min(trace.edits.length, from + SLICE_EDITS);
			applyEdits(writer.document, trace.edits, from, to);
			await nextTurn();
			while ((socket()?.bufferedAmount ?? 0) > MAX_BUFFERED_BYTES) await nextTurn();
			if (Math.floor(to / ACK_EVERY_EDITS) !== Math.floor(from / ACK_EVERY_EDITS)) {
				await waitFor(() => !writer.hasUnsyncedChanges, writer, "unsyncedChanges");
			}
		}
		await waitFor(() => !writer.hasUnsyncedChanges, writer, "unsyncedChanges");
		const sentMs = performance.now() - started;
		await converged;
		const convergedMs = performance.now() - started;
		const clientId = writer.document.clientID;
		const clock = Y.getState(writer.document.store, clientId);
		await waitFor(() => storedVectors.some((v) => (v.get(clientId) ?? 0) >= clock), writer, "stateless");
		const storedMs = performance.now() - started;
		const serverCpuMs = (sampleProcess(server.pid).cpuMicros - cpuBefore) / 1000;
		const serverRssBytes = sampleProcess(server.pid).rssBytes;
		const rest = await getSession(server.httpUrl, account.token, sessionId);
		writer.destroy();
		reader.destroy();
		const exitCode = await server.stop();
		if (exitCode !== 0) throw new Error(`Tandem's server exited with ${exitCode} on SIGTERM`);
		const db = new PGlite(path.join(server.dataDir, "pglite"));
		// The snapshot and any update-log rows not compacted into it (decision 053).
		const rows = await db.query<{ state: Uint8Array }>(
			"select state from documents where session_id = $1 union all (select update from document_updates where session_id = $1 and not compacted order by id)",
			[sessionId],
		);
		await db.close();
		if (rows.rows.length === 0) throw new Error("no stored state for the session");
		const state = Y.mergeUpdates(rows.rows.map((r) => r.state));
		const storedDoc = decodeDocument(state);
		const storedEqual = readCode(storedDoc) === trace.endContent;
		storedDoc.destroy();
		return {
			mode,
			sentMs,
			convergedMs,
			storedMs,
			writer: writerCounter,
			reader: readerCounter,
			restEqual: rest.code === trace.endContent,
			storedEqual,
			storedBytes: state.byteLength,
			serverCpuMs,
			serverRssBytes,
		};
	} finally {
		await server.stop();
		const { rm } = await import("node:fs/promises");
		await rm(server.dataDir, { recursive: true, force: true });
	}
}

/** What the smoke test checks besides the markdown. */
export interface TraceChecks {
	readonly edits: number;
	readonly endLength: number;
	readonly results: readonly TandemResult[];
}

export default async function run(opts: {
	smoke: boolean;
}): Promise<{ title: string; markdown: string; checks: TraceChecks }> {
	const trace = loadTrace(opts.smoke ? SMOKE_EDITS : undefined);
	const bare = runBareYjs(trace);
	const twoDocsMs = runTwoDocsInMemory(trace);
	const results: TandemResult[] = [];
	for (const mode of ["keystroke", "batched"] as const) {
		const result = await runTandem(trace, mode);
		if (!result.restEqual) throw new Error(`${mode}: GET /session code differs from endContent`);
		if (!result.storedEqual) throw new Error(`${mode}: the stored document differs from endContent`);
		results.push(result);
	}
	const n = trace.edits.length;
	const rows = [
		[
			"bare Yjs (one Y.Doc)",
			fmt(bare.ms),
			fmt((bare.ms * 1000) / n, 2),
			"1.00×",
			"–",
			"–",
			`${fmtBytes(bare.v1Bytes)} (v1), ${fmtBytes(bare.v2Bytes)} (v2)`,
		],
		[
			"two Y.Docs in memory (update relayed)",
			fmt(twoDocsMs),
			fmt((twoDocsMs * 1000) / n, 2),
			`${fmt(twoDocsMs / bare.ms, 2)}×`,
			"–",
			"–",
			"–",
		],
		...results.map((r) => [
			r.mode === "keystroke" ? "Tandem, one message per keystroke" : "Tandem, provider batching (flushDelay 16 ms)",
			fmt(r.convergedMs),
			fmt((r.convergedMs * 1000) / n, 2),
			`${fmt(r.convergedMs / bare.ms, 2)}×`,
			`${fmtBytes(r.writer.sentBytes)} in ${fmt(r.writer.sentMessages)} msgs`,
			`${fmtBytes(r.reader.receivedBytes)} in ${fmt(r.reader.receivedMessages)} msgs`,
			`${fmtBytes(r.storedBytes)} (stored after ${fmt(r.storedMs)} ms)`,
		]),
	];
	const detail = results.map((r) => [
		r.mode,
		fmt(r.sentMs),
		fmt(r.convergedMs),
		fmt(r.storedMs),
		fmt(r.serverCpuMs),
		fmtBytes(r.serverRssBytes),
		fmtBytes(r.writer.receivedBytes),
		fmtBytes(r.reader.sentBytes),
		r.restEqual && r.storedEqual ? "yes" : "NO",
	]);
	const markdown = [
		`Trace: automerge-paper (Kleppmann and Beresford, via josephg/editing-traces, CC BY 4.0), ${fmt(n)} edits, final text ${fmt(trace.endContent.length)} characters${opts.smoke ? " (smoke: a prefix of the trace)" : ""}.`,
		"",
		"One Node process holds both clients (Y.Doc + HocuspocusProvider over `ws`); Tandem's sync server runs as a child process in its embedded deployment (PGlite in a temporary DATA_DIR, default store debounce). Every edit is its own Yjs transaction, like a keystroke in the editor. The writer applies the trace in slices of 128 edits per event-loop turn, waits while more than 1 MiB is queued in its socket, and every 8,192 edits waits until the server has acknowledged all its updates. *Time* runs from the first edit until the second client's text equals endContent; *stored* is when the server's `stored` notice covers the writer's whole state. Bytes are WebSocket payload plus frame headers, counted client side.",
		"",
		table(
			["run", "time (ms)", "µs per edit", "vs bare Yjs", "writer → server", "server → reader", "document size"],
			rows,
		),
		"",
		table(
			[
				"Tandem mode",
				"all sent + acked (ms)",
				"reader converged (ms)",
				"stored (ms)",
				"server CPU (ms)",
				"server RSS at end",
				"server → writer",
				"reader → server",
				"REST and stored text = endContent",
			],
			detail,
		),
		"",
		"Goal: Tandem within 2× of bare Yjs. The bare row is the CRDT work of one replica; the Tandem rows add the encoding, the socket, the server's apply-and-relay (and its stores) and the second replica's apply, on a machine where client and server share two cores.",
	].join("\n");
	return {
		title: "Editing trace through the sync server",
		markdown,
		checks: { edits: n, endLength: trace.endContent.length, results },
	};
}
