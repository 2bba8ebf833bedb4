import { describe, expect, it } from "vitest";
import { terminalText } from "./terminalText.ts";

describe("terminalText", () => {
	it("RELIABILITY 37: a lone CR starts the line over, as a terminal shows progress", () => {
		expect(terminalText("progress 0%\rprogress 25%\rdone")).toBe("done");
		expect(terminalText("a\nprogress 0%\rdone\nb\n")).toBe("a\ndone\nb\n");
	});

	it("RELIABILITY 37: CRLF is one line break and a CR at the end of a line changes nothing", () => {
		expect(terminalText("one\r\ntwo\r\n")).toBe("one\ntwo\n");
		expect(terminalText("50%\r\r\n")).toBe("50%\n");
	});

	it("RELIABILITY 37: NUL and other control characters show as symbols; tabs, multi-byte text stay", () => {
		expect(terminalText("a\u0000b\u0007\u007f")).toBe("a\u2400b\u2407\u2421");
		expect(terminalText("\tπ 😀 日本")).toBe("\tπ 😀 日本");
	});
});
