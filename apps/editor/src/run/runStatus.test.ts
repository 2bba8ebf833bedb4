import { describe, expect, it } from "vitest";
import { parseMessage, statusInWords } from "./runStatus.ts";

describe("statusInWords", () => {
	it("says each CONTRACT status in words", () => {
		expect(statusInWords("compile_error")).toBe("Compile error");
		expect(statusInWords("timeout")).toMatch(/Time-out/);
		expect(statusInWords("something_new")).toBe("something new");
	});
});

describe("parseMessage", () => {
	it("returns only JSON messages of the asked type", () => {
		expect(parseMessage('{"type":"run","state":"done"}', "run")).toEqual({ type: "run", state: "done" });
		expect(parseMessage('{"type":"tests"}', "run")).toBeNull();
		expect(parseMessage("not json", "run")).toBeNull();
	});
});
