import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { codeText } from "@tandem/crdt-schema";
import type * as Y from "yjs";

/** The automerge-paper editing trace (see /work/shared/bench-data/README.md). */
export const TRACE_PATH = process.env.BENCH_TRACE ?? "/work/shared/bench-data/automerge-paper.json.gz";

/** One keystroke: at `position` delete `deleted` characters, then insert `inserted`. */
export type Edit = readonly [position: number, deleted: number, inserted: string];

export interface EditingTrace {
	readonly edits: readonly Edit[];
	readonly endContent: string;
}

interface TraceFile {
	startContent: string;
	endContent: string;
	txns: { patches: [number, number, string][] }[];
}

/** Load the trace; with `limit`, only its first edits and the text they produce. */
export function loadTrace(limit?: number): EditingTrace {
	const file = JSON.parse(gunzipSync(readFileSync(TRACE_PATH)).toString("utf8")) as TraceFile;
	if (file.startContent !== "") throw new Error("the benchmarks expect a trace that starts from an empty document");
	const edits: Edit[] = [];
	for (const txn of file.txns) for (const patch of txn.patches) edits.push(patch);
	if (limit === undefined || limit >= edits.length) return { edits, endContent: file.endContent };
	const prefix = edits.slice(0, limit);
	return { edits: prefix, endContent: replayOnString(prefix) };
}

/** The text a list of edits produces on an empty string (the trace is ASCII: code points = UTF-16 units). */
export function replayOnString(edits: readonly Edit[]): string {
	// Chunked rope-free replay is fast enough for a smoke-sized prefix; the full trace ships its endContent.
	let text = "";
	for (const [position, deleted, inserted] of edits) {
		text = text.slice(0, position) + inserted + text.slice(position + deleted);
	}
	return text;
}

/** Apply edits [from, to) to a document's code text, one transaction per keystroke like an editor. */
export function applyEdits(doc: Y.Doc, edits: readonly Edit[], from = 0, to = edits.length): void {
	const text = codeText(doc);
	for (let i = from; i < to; i++) {
		const [position, deleted, inserted] = edits[i] as Edit;
		if (deleted > 0 && inserted.length > 0) {
			doc.transact(() => {
				text.delete(position, deleted);
				text.insert(position, inserted);
			});
		} else if (deleted > 0) {
			text.delete(position, deleted);
		} else {
			text.insert(position, inserted);
		}
	}
}
