import { Compartment, EditorState, type Extension } from "@codemirror/state";
import { EditorView } from "@codemirror/view";

const compartment = new Compartment();

function config(isReadOnly: boolean): Extension {
	return [EditorState.readOnly.of(isReadOnly), EditorView.editable.of(!isReadOnly)];
}

/** Read-only mode for viewers; switchable while the editor is open. */
export function readOnly(isReadOnly: boolean): Extension {
	return compartment.of(config(isReadOnly));
}

export function setReadOnly(view: EditorView, isReadOnly: boolean): void {
	view.dispatch({ effects: compartment.reconfigure(config(isReadOnly)) });
}
