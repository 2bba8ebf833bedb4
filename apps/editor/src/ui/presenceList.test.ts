import { describe, expect, it } from "vitest";
import { presenceEntries } from "./presenceList.ts";

describe("presenceEntries", () => {
	it("lists this client first and skips states without a user", () => {
		const states = new Map<number, Record<string, unknown>>([
			[3, { user: { name: "zoe", color: "#112233" } }],
			[1, { user: { name: "amy", color: "#445566" } }],
			[2, { cursor: {} }],
			[7, { user: { name: "me", color: "#778899" } }],
		]);
		expect(presenceEntries(states, 7).map((e) => e.name)).toEqual(["me", "amy", "zoe"]);
	});

	it("never passes a foreign colour string through to styles", () => {
		const states = new Map<number, Record<string, unknown>>([
			[1, { user: { name: "<img src=x onerror=alert(1)>", color: "red;background:url(//evil)" } }],
		]);
		const [entry] = presenceEntries(states, 2);
		expect(entry?.color).toBe("#888888");
		expect(entry?.name).toBe("<img src=x onerror=alert(1)>");
	});
});
