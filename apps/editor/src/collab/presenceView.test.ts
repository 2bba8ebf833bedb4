import { describe, expect, it } from "vitest";
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from "y-protocols/awareness";
import * as Y from "yjs";
import { PresenceView, shownState } from "./presenceView.ts";
import { userColor } from "./userColor.ts";

describe("presence as the editor shows it", () => {
	it("RELIABILITY 46: a remote state's colour, name and cursor are validated before the editor reads them", () => {
		const mine = new Awareness(new Y.Doc());
		const theirs = new Awareness(new Y.Doc());
		theirs.setLocalState({
			user: {
				id: "u-mallory",
				name: "mallory",
				color: "red; position: fixed; inset: 0; background: url(https://attacker.example/x)",
				colorLight: "#00000000; z-index: 9",
			},
			cursor: {
				anchor: { type: null, tname: "not-a-root", item: null, assoc: 0 },
				head: { type: null, tname: "not-a-root", item: null, assoc: 0 },
			},
			extra: "<script>",
		});
		applyAwarenessUpdate(mine, encodeAwarenessUpdate(theirs, [theirs.clientID]), "remote");

		const shown = new PresenceView(mine).getStates().get(theirs.clientID);
		const fallback = userColor("u-mallory").color;
		expect(shown).toEqual({ user: { id: "u-mallory", name: "mallory", color: fallback, colorLight: `${fallback}33` } });
	});

	it("RELIABILITY 46: names with control or direction characters, or too long, are not shown", () => {
		for (const name of ["a\u202eb", "line\nbreak", "x".repeat(65), "   ", "zero\u200bwidth"]) {
			expect(shownState({ user: { id: "u", name, color: "#123456" } }).user).toBeUndefined();
		}
		expect(shownState({ user: { id: "u", name: "Zoë 李", color: "#123456" } }).user).toEqual({
			id: "u",
			name: "Zoë 李",
			color: "#123456",
			colorLight: "#12345633",
		});
	});

	it("keeps a cursor into the document's code text", () => {
		const doc = new Y.Doc();
		const text = doc.getText("code");
		text.insert(0, "hello");
		const anchor = JSON.parse(JSON.stringify(Y.createRelativePositionFromTypeIndex(text, 1)));
		const end = JSON.parse(JSON.stringify(Y.createRelativePositionFromTypeIndex(text, 5)));
		expect(shownState({ cursor: { anchor, head: end } }).cursor).toEqual({ anchor, head: end });
	});
});
