import { describe, expect, it } from "vitest";
import { loginPath, matchRoute, safeNext, sessionPath } from "./routes.ts";

describe("routes", () => {
	it("matches the pages of the app", () => {
		expect(matchRoute("/")).toEqual({ name: "sessions" });
		expect(matchRoute("/login")).toEqual({ name: "login" });
		expect(matchRoute("/signup/")).toEqual({ name: "signup" });
		expect(matchRoute("/s/Abc_123-xyz")).toEqual({ name: "session", id: "Abc_123-xyz" });
		expect(matchRoute("/join/Tok_en-123")).toEqual({ name: "join", token: "Tok_en-123" });
	});

	it("refuses session paths that are not session ids", () => {
		expect(matchRoute("/s/")).toEqual({ name: "notFound" });
		expect(matchRoute("/s/../etc")).toEqual({ name: "notFound" });
		expect(matchRoute(`/s/${"a".repeat(65)}`)).toEqual({ name: "notFound" });
		expect(matchRoute("/nope")).toEqual({ name: "notFound" });
	});

	it("sends a visitor back to the session after logging in", () => {
		const next = sessionPath("abc");
		expect(loginPath(next)).toBe("/login?next=%2Fs%2Fabc");
		expect(safeNext(new URLSearchParams("next=%2Fs%2Fabc").get("next"))).toBe("/s/abc");
		expect(loginPath("/")).toBe("/login");
	});

	it("never redirects to another origin after login", () => {
		expect(safeNext("https://evil.example/")).toBe("/");
		expect(safeNext("//evil.example/")).toBe("/");
		expect(safeNext("/\\evil.example")).toBe("/");
		expect(safeNext(null)).toBe("/");
	});
});
