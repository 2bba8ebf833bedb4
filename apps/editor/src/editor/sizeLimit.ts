import { EditorState, type Extension } from "@codemirror/state";
import { codeTooLongMessage, MAX_CODE_CHARS } from "@tandem/crdt-schema";
import { ySyncAnnotation } from "y-codemirror.next";

/**
 * Refuses a local change that would make the code longer than MAX_CODE_CHARS (RELIABILITY 39) before it
 * reaches the document, and calls `onRefused` with words for the person. Changes that shrink the code are
 * always let through (a document stored before the limit can be cut down), and so are remote changes
 * (from Yjs, already in the document: refusing them would split the editor from the document).
 */
export function codeSizeLimit(onRefused: (message: string) => void, maxChars: number = MAX_CODE_CHARS): Extension {
	return EditorState.transactionFilter.of((tr) => {
		if (!tr.docChanged || tr.annotation(ySyncAnnotation) !== undefined) return tr;
		const after = tr.newDoc.length;
		if (after <= maxChars || after <= tr.startState.doc.length) return tr;
		// Report after this update cycle: a filter must not dispatch or touch the DOM.
		queueMicrotask(() => onRefused(codeTooLongMessage(after)));
		return [];
	});
}
