// The benchmark's baseline: the least page that edits a Tandem session together, i.e.
// CodeMirror 6 + y-codemirror.next + @hocuspocus/provider and nothing else (no language,
// no theme, no offline copy, no UI). Open it as /editor-baseline/?session=ID#token=TOKEN.
import { defaultKeymap } from "@codemirror/commands";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { HocuspocusProvider } from "@hocuspocus/provider";
import { codeText } from "@tandem/crdt-schema";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import * as Y from "yjs";

const badge = document.querySelector(".badge.connection") as HTMLElement;
const sessionId = new URLSearchParams(location.search).get("session");
const token = new URLSearchParams(location.hash.slice(1)).get("token");

if (!sessionId || !token) {
	badge.textContent = "Open this page as ?session=ID#token=TOKEN";
} else {
	const doc = new Y.Doc();
	const text = codeText(doc);
	const scheme = location.protocol === "https:" ? "wss" : "ws";
	const provider = new HocuspocusProvider({
		url: `${scheme}://${location.host}/collab/${encodeURIComponent(sessionId)}`,
		name: sessionId,
		document: doc,
		token,
	});
	// Same words as Tandem's connection badge, so one DOM check detects "synced" on both pages.
	provider.on("synced", ({ state }: { state: boolean }) => {
		badge.textContent = state ? "Live" : "Connecting";
	});
	provider.on("authenticationFailed", ({ reason }: { reason: string }) => {
		badge.textContent = `Refused: ${reason}`;
	});
	new EditorView({
		parent: document.getElementById("editor") ?? document.body,
		state: EditorState.create({
			doc: text.toString(),
			extensions: [
				yCollab(text, provider.awareness, { undoManager: new Y.UndoManager(text) }),
				keymap.of([...yUndoManagerKeymap, ...defaultKeymap]),
			],
		}),
	});
}
