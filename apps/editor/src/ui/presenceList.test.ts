import { describe, expect, it } from "vitest";
import { userColor } from "../collab/userColor.ts";
import { presenceEntries } from "./presenceList.ts";

describe("presenceEntries", () => {
	it("lists this client first and skips states without a user", () => {
		const states = new Map<number, Record<string, unknown>>([
			[3, { user: { id: "u3", name: "zoe", color: "#112233" } }],
			[1, { user: { id: "u1", name: "amy", color: "#445566" } }],
			[2, { cursor: {} }],
			[7, { user: { id: "u7", name: "me", color: "#778899" } }],
		]);
		expect(presenceEntries(states, 7).map((e) => e.name)).toEqual(["me", "amy", "zoe"]);
	});

	it("RELIABILITY 46: never passes a foreign colour string through to styles", () => {
		const states = new Map<number, Record<string, unknown>>([
			[1, { user: { id: "u1", name: "<img src=x onerror=alert(1)>", color: "red;background:url(//evil)" } }],
			[2, { user: { id: "u2", name: "\u202eevil", color: "#123456" } }],
		]);
		const entries = presenceEntries(states, 9);
		expect(entries).toHaveLength(1);
		expect(entries[0]?.color).toBe(userColor("u1").color);
		// Names are shown as text, never parsed as HTML.
		expect(entries[0]?.name).toBe("<img src=x onerror=alert(1)>");
	});
});
