import { describe, expect, it } from "vitest";
import { decodeAccessMessage } from "./accessMessage.ts";

describe("decodeAccessMessage", () => {
	it("reads the new role, read-only state and end of an access message", () => {
		expect(decodeAccessMessage('{"type":"access","role":"viewer","readOnly":true,"ended":false}')).toEqual({
			role: "viewer",
			readOnly: true,
			ended: false,
		});
		expect(decodeAccessMessage('{"type":"access","role":"editor","readOnly":true,"ended":true}')).toEqual({
			role: "editor",
			readOnly: true,
			ended: true,
		});
		expect(decodeAccessMessage('{"type":"access","role":"interviewer"}')).toEqual({
			role: "interviewer",
			readOnly: false,
			ended: false,
		});
	});

	it("ignores other messages, unknown roles and garbage", () => {
		expect(decodeAccessMessage('{"type":"stored","stateVector":"AA=="}')).toBeNull();
		expect(decodeAccessMessage('{"type":"access","role":"admin"}')).toBeNull();
		expect(decodeAccessMessage("not json")).toBeNull();
		expect(decodeAccessMessage("null")).toBeNull();
	});
});
