import { describe, expect, it } from "vitest";
import { ApiError, isDatabaseUnavailable, toErrorBody } from "./errors.ts";

describe("toErrorBody", () => {
	it("maps ApiError codes to their one status", () => {
		expect(toErrorBody(new ApiError("conflict", "taken"))).toMatchObject({
			status: 409,
			code: "conflict",
			message: "taken",
		});
		expect(toErrorBody(new ApiError("rate_limited", "slow down", { headers: { "retry-after": "3" } })).headers).toEqual(
			{ "retry-after": "3" },
		);
	});

	it("answers 503, not 500, when the database cannot be reached (RELIABILITY 34)", () => {
		const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
		expect(isDatabaseUnavailable(new Error("query failed", { cause: refused }))).toBe(true);
		expect(toErrorBody(new Error("wrapped", { cause: refused }))).toMatchObject({ status: 503, code: "unavailable" });
		expect(toErrorBody(Object.assign(new Error("admin shutdown"), { code: "57P01" })).status).toBe(503);
	});

	it("never leaks an internal message or stack for unknown errors", () => {
		const body = toErrorBody(new Error("secret detail at /srv/app.ts:12"));
		expect(body).toMatchObject({ status: 500, code: "internal", message: "Internal server error" });
	});
});
