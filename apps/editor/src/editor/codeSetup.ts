import { defaultKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import type { Extension } from "@codemirror/state";
import {
	drawSelection,
	dropCursor,
	highlightActiveLine,
	highlightActiveLineGutter,
	highlightSpecialChars,
	keymap,
	lineNumbers,
	rectangularSelection,
} from "@codemirror/view";
import { yUndoManagerKeymap } from "y-codemirror.next";

/**
 * The editing basics, picked by hand instead of codemirror's basicSetup: no autocomplete,
 * lint or search panels (a third of basicSetup's weight), and undo from the shared
 * document's UndoManager instead of CodeMirror's history, so undo never reverts a
 * collaborator's typing.
 */
export function codeSetup(): Extension {
	return [
		lineNumbers(),
		highlightActiveLineGutter(),
		highlightSpecialChars(),
		drawSelection(),
		dropCursor(),
		rectangularSelection(),
		indentOnInput(),
		syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
		bracketMatching(),
		highlightActiveLine(),
		keymap.of([...yUndoManagerKeymap, ...defaultKeymap, indentWithTab]),
	];
}
