import type { Extension } from "@codemirror/state";
import { yCollab } from "y-codemirror.next";
import type { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";
import { PresenceView } from "../collab/presenceView.ts";

/**
 * Bind the editor to the session's Y.Text: shared edits, remote cursors and selections
 * labelled with each person's awareness `user.name` in `user.color`, and an undo history
 * that only undoes this person's own edits. Remote states reach the editor only through
 * PresenceView (validated names, `#rrggbb` colours, cursors into the document's roots).
 */
export function collabBinding(text: Y.Text, awareness: Awareness | null): Extension {
	return yCollab(text, awareness && new PresenceView(awareness), { undoManager: new Y.UndoManager(text) });
}
