import { describe, expect, it } from "vitest";
import { CLIENT_SESSION_ID_LENGTH, newClientSessionId } from "./pendingSessions.ts";

// What POST /create-session accepts for a client-made id (sync-server sessionIds.ts).
const SERVER_ID_PATTERN = /^[A-Za-z0-9_-]{21,64}$/;

describe("client-made session ids", () => {
	it("match the server's accepted format with at least 128 random bits", () => {
		expect(CLIENT_SESSION_ID_LENGTH * 6).toBeGreaterThanOrEqual(128);
		for (let i = 0; i < 200; i++) expect(newClientSessionId()).toMatch(SERVER_ID_PATTERN);
	});

	it("do not repeat and use the whole alphabet", () => {
		const ids = Array.from({ length: 2000 }, () => newClientSessionId());
		expect(new Set(ids).size).toBe(ids.length);
		const letters = new Set(ids.join(""));
		expect(letters.size).toBe(64);
	});
});
