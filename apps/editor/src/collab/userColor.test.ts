import { describe, expect, it } from "vitest";
import { userColor } from "./userColor.ts";

describe("userColor", () => {
	it("gives the same person the same colour every time", () => {
		expect(userColor("user-1")).toEqual(userColor("user-1"));
	});

	it("gives a hex colour and a translucent selection colour", () => {
		const { color, colorLight } = userColor("0193a6f2-7d7c-7b3a-9a5e-2f6c1d0e9b11");
		expect(color).toMatch(/^#[0-9a-f]{6}$/);
		expect(colorLight).toBe(`${color}33`);
	});

	it("spreads different people over different colours", () => {
		const colors = new Set(Array.from({ length: 50 }, (_, i) => userColor(`user-${i}`).color));
		expect(colors.size).toBeGreaterThan(30);
	});
});
