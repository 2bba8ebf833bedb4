import { describe, expect, it } from "vitest";
import { decodeAccessMessage } from "./accessMessage.ts";

describe("decodeAccessMessage", () => {
	it("reads the new role of an access message", () => {
		expect(decodeAccessMessage('{"type":"access","role":"viewer"}')).toBe("viewer");
		expect(decodeAccessMessage('{"type":"access","role":"editor"}')).toBe("editor");
	});

	it("ignores other messages, unknown roles and garbage", () => {
		expect(decodeAccessMessage('{"type":"stored","stateVector":"AA=="}')).toBeNull();
		expect(decodeAccessMessage('{"type":"access","role":"admin"}')).toBeNull();
		expect(decodeAccessMessage("not json")).toBeNull();
		expect(decodeAccessMessage("null")).toBeNull();
	});
});
