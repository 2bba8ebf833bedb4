import { EditorState, type Extension, Transaction, type TransactionSpec } from "@codemirror/state";
import { normalizeLineEndings } from "@tandem/crdt-schema";

/**
 * One line-ending convention in the editor, the same as the shared Y.Text's (SPEC CS7):
 * - CodeMirror splits lines on "\n" only. By default it also splits on "\r\n" and "\r",
 *   counting "\r\n" as one break, so its offsets drifted from the Y.Text's by one per CRLF
 *   and an edit landed a character early on the server (RELIABILITY 38). A "\r" that still
 *   reaches the document (an old offline copy) shows as a special character instead.
 * - Text a person types, pastes or drops has CRLF and lone CR turned into "\n" before it
 *   reaches the document, so no new "\r" enters.
 */
export function lineEndings(): Extension {
	return [EditorState.lineSeparator.of("\n"), normalizeInput];
}

const normalizeInput = EditorState.transactionFilter.of((tr): Transaction | TransactionSpec => {
	if (!tr.docChanged || !tr.isUserEvent("input")) return tr;
	let foreign = false;
	tr.changes.iterChanges((_fromA, _toA, _fromB, _toB, inserted) => {
		if (!foreign && inserted.sliceString(0).includes("\r")) foreign = true;
	});
	if (!foreign) return tr;
	const specs: { from: number; to: number; insert: string }[] = [];
	tr.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
		specs.push({ from: fromA, to: toA, insert: normalizeLineEndings(inserted.sliceString(0)) });
	});
	const changes = tr.startState.changes(specs);
	const userEvent = tr.annotation(Transaction.userEvent);
	return {
		changes,
		// The cursor ends after the inserted text, as it would have without the rewrite.
		selection: tr.startState.selection.map(changes, 1),
		effects: tr.effects,
		scrollIntoView: tr.scrollIntoView,
		...(userEvent !== undefined ? { userEvent } : {}),
	};
});
