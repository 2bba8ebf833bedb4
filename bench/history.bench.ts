// Issue 15 "Numbers": the storage of a one-hour two-person session replayed from the editing trace
// (bytes per minute), and the time to rebuild any point of it beside loading the current document.
// History is the update log (decision 055, SPEC CS12): one row per store, rebuilt as base + rows.
// This replays the log in memory with the server's own merge (no database round trips), so the
// times are the CPU part of GET /session/{id}/history/{eventId}; the row count and bytes are exact.
import { codeText, readCode } from "@tandem/crdt-schema";
import * as Y from "yjs";
import { type Edit, loadTrace } from "./harness/editingTrace.ts";
import { fmt, fmtBytes, quantile, table } from "./harness/stats.ts";

/** Simulated length of the session (s): one hour. */
const SESSION_SECONDS = 3600;
/** The sync-server's default PERSIST_DEBOUNCE_MS: one log row per 2 s window with changes. */
const STORE_WINDOW_SECONDS = 2;
/**
 * Keystrokes per second of each of two people while typing, and the share of the hour they type:
 * 3/s (about 36 words a minute) for half the hour, the rest reading, running and talking.
 */
const KEYSTROKES_PER_SECOND = 3;
const TYPING_SHARE = 0.5;
/** Bytes a log row costs in Postgres besides its update: tuple header, id, session id, flags, time, index entry. */
const ROW_OVERHEAD_BYTES = 120;
/** Points rebuilt to measure the time to show one. */
const POINTS = 200;

/** Apply one trace edit through `doc`'s own client id. */
function applyOne(doc: Y.Doc, [position, deleted, inserted]: Edit): void {
	const text = codeText(doc);
	const at = Math.min(position, text.length);
	doc.transact(() => {
		if (deleted > 0) text.delete(at, Math.min(deleted, text.length - at));
		if (inserted) text.insert(at, inserted);
	});
}

export default async function historyBench({ smoke }: { smoke: boolean }) {
	const seconds = smoke ? 120 : SESSION_SECONDS;
	const keystrokes = Math.round(seconds * TYPING_SHARE * KEYSTROKES_PER_SECOND * 2);
	const trace = loadTrace(keystrokes);
	const a = new Y.Doc();
	const b = new Y.Doc();
	const server = new Y.Doc();
	let pending: Uint8Array[] = [];
	server.on("update", (u: Uint8Array) => pending.push(u));
	const rows: Uint8Array[] = [];
	// Spread the typing over the windows where someone types; alternate typists by stretches of 50 keys.
	const typingWindows = Math.max(1, Math.round((seconds * TYPING_SHARE) / STORE_WINDOW_SECONDS));
	const perWindow = Math.max(1, Math.ceil(trace.edits.length / typingWindows));
	for (let i = 0; i < trace.edits.length; i++) {
		const typist = Math.floor(i / 50) % 2 === 0 ? a : b;
		const other = typist === a ? b : a;
		const sv = Y.encodeStateVector(typist);
		applyOne(typist, trace.edits[i] as Edit);
		const update = Y.encodeStateAsUpdate(typist, sv);
		Y.applyUpdate(server, update);
		Y.applyUpdate(other, update);
		if ((i + 1) % perWindow === 0 || i === trace.edits.length - 1) {
			rows.push(pending.length === 1 ? (pending[0] as Uint8Array) : Y.mergeUpdates(pending));
			pending = [];
		}
	}
	const updateBytes = rows.reduce((n, r) => n + r.byteLength, 0);
	const storedBytes = updateBytes + rows.length * ROW_OVERHEAD_BYTES;
	const perMinute = storedBytes / (seconds / 60);

	const rebuild: number[] = [];
	for (let p = 0; p < POINTS; p++) {
		const k = Math.floor(((p + 0.5) / POINTS) * rows.length);
		const started = performance.now();
		const doc = new Y.Doc();
		for (let r = 0; r <= k; r++) Y.applyUpdate(doc, rows[r] as Uint8Array);
		readCode(doc);
		rebuild.push(performance.now() - started);
		doc.destroy();
	}
	const snapshot = Y.encodeStateAsUpdate(server);
	const current: number[] = [];
	for (let p = 0; p < POINTS; p++) {
		const started = performance.now();
		const doc = new Y.Doc();
		Y.applyUpdate(doc, snapshot);
		readCode(doc);
		current.push(performance.now() - started);
		doc.destroy();
	}
	rebuild.sort((x, y) => x - y);
	current.sort((x, y) => x - y);
	const markdown = [
		`${fmt(seconds / 60)} minutes, two people, ${fmt(trace.edits.length)} keystrokes of the automerge-paper trace ` +
			`(${KEYSTROKES_PER_SECOND}/s each while typing, ${TYPING_SHARE * 100}% of the time), one log row per ` +
			`${STORE_WINDOW_SECONDS} s window with changes; rows cost their update plus ${ROW_OVERHEAD_BYTES} bytes.`,
		"",
		table(
			["log rows", "update bytes", "stored (est.)", "per minute", "final document"],
			[
				[
					fmt(rows.length),
					fmtBytes(updateBytes),
					fmtBytes(storedBytes),
					fmtBytes(perMinute),
					fmtBytes(snapshot.byteLength),
				],
			],
		),
		"",
		table(
			["", "p50 ms", "p99 ms"],
			[
				["show a point (base + rows up to it)", fmt(quantile(rebuild, 0.5), 2), fmt(quantile(rebuild, 0.99), 2)],
				["load the current document", fmt(quantile(current, 0.5), 2), fmt(quantile(current, 0.99), 2)],
			],
		),
	].join("\n");
	return { title: "History storage and playback (issue 15)", markdown, rows: rows.length, bytesPerMinute: perMinute };
}
