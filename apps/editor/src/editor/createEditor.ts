import { EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import type { Awareness } from "y-protocols/awareness";
import type * as Y from "yjs";
import { codeSetup } from "./codeSetup.ts";
import { collabBinding } from "./collabBinding.ts";
import { editorTheme } from "./editorTheme.ts";
import { lineEndings } from "./lineEndings.ts";
import { readOnly, setReadOnly } from "./readOnly.ts";
import { codeSizeLimit } from "./sizeLimit.ts";
import { switchSyntaxLanguage, syntaxLanguage } from "./syntaxLanguage.ts";

export interface EditorOptions {
	readonly parent: HTMLElement;
	readonly text: Y.Text;
	readonly awareness: Awareness | null;
	/** The session language, or null while unknown (plain text until `setLanguage`). */
	readonly language: string | null;
	readonly readOnly: boolean;
	/** Called with words when a local change is refused for making the code too long (RELIABILITY 39). */
	readonly onRefusedChange?: (message: string) => void;
}

export interface CodeEditor {
	readonly view: EditorView;
	setLanguage(id: string): Promise<void>;
	setReadOnly(isReadOnly: boolean): void;
	destroy(): void;
}

/** A CodeMirror 6 editor bound to the session's code. */
export function createEditor(options: EditorOptions): CodeEditor {
	const view = new EditorView({
		parent: options.parent,
		state: EditorState.create({
			doc: options.text.toString(),
			extensions: [
				// Before the binding reads the document: offsets must match the Y.Text's (SPEC CS7).
				lineEndings(),
				codeSetup(),
				editorTheme(),
				syntaxLanguage(),
				readOnly(options.readOnly),
				codeSizeLimit(options.onRefusedChange ?? (() => {})),
				collabBinding(options.text, options.awareness),
				EditorView.contentAttributes.of({ "aria-label": "Code" }),
			],
		}),
	});
	if (options.language !== null) void switchSyntaxLanguage(view, options.language);
	return {
		view,
		setLanguage: (id) => switchSyntaxLanguage(view, id),
		setReadOnly: (isReadOnly) => setReadOnly(view, isReadOnly),
		destroy: () => view.destroy(),
	};
}
