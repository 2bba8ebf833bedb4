import { describe, expect, it } from "vitest";
import { encodeSignal, parseSignal } from "./signals.ts";

describe("call signals", () => {
	it("encodes a signal as a call message and reads it back", () => {
		const payload = encodeSignal({ kind: "state", muted: true, camera: false });
		expect(JSON.parse(payload)).toEqual({ type: "call", kind: "state", muted: true, camera: false });
		expect(parseSignal(payload)).toMatchObject({ kind: "state", muted: true });
	});

	it("ignores other features' stateless messages and garbage", () => {
		expect(parseSignal(JSON.stringify({ type: "stored", stateVector: "AA==" }))).toBeNull();
		expect(parseSignal('{"type":"call"')).toBeNull();
		expect(parseSignal(JSON.stringify({ type: "call" }))).toBeNull();
		expect(parseSignal("not json")).toBeNull();
	});
});
