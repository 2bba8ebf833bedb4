import { describe, expect, it } from "vitest";
import { diffOutputs, normalizeOutput, outputsMatch } from "./matchOutput.ts";

describe("outputsMatch (CONTRACT whitespace rule)", () => {
	it("ignores trailing spaces and tabs on each line", () => {
		expect(outputsMatch("1 2 \n3\t\n", "1 2\n3")).toBe(true);
	});

	it("ignores trailing newlines and blank lines at the end", () => {
		expect(outputsMatch("hello\n\n\n", "hello")).toBe(true);
		expect(outputsMatch("hello", "hello\n")).toBe(true);
	});

	it("treats CRLF like LF", () => {
		expect(outputsMatch("a\r\nb\r\n", "a\nb")).toBe(true);
	});

	it("keeps leading and inner whitespace significant", () => {
		expect(outputsMatch(" hello", "hello")).toBe(false);
		expect(outputsMatch("a  b", "a b")).toBe(false);
	});

	it("keeps blank lines in the middle significant", () => {
		expect(outputsMatch("a\n\nb", "a\nb")).toBe(false);
	});

	it("tells different text apart", () => {
		expect(outputsMatch("42", "43")).toBe(false);
		expect(outputsMatch("", "0")).toBe(false);
	});

	it("normalizes an all-whitespace output to empty", () => {
		expect(normalizeOutput(" \n\t\n")).toBe("");
	});
});

describe("diffOutputs", () => {
	it("marks expected-only lines with - and actual-only lines with +", () => {
		expect(diffOutputs("1\n2\n3", "1\n5\n3\n4")).toBe("  1\n- 2\n+ 5\n  3\n+ 4");
	});
});
