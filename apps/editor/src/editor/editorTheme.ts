import type { Extension } from "@codemirror/state";
import { EditorView } from "@codemirror/view";

/** Fills its pane, scrolls inside it, and never widens the page (long lines scroll). */
export function editorTheme(): Extension {
	return EditorView.theme({
		"&": { height: "100%", fontSize: "14px", maxWidth: "100%" },
		".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", overflow: "auto" },
		".cm-ySelectionInfo": { opacity: "1", fontFamily: "system-ui, sans-serif", fontSize: "11px" },
	});
}
