import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { iceServersFor, readIceConfig } from "./iceConfig.ts";

describe("ICE configuration", () => {
	it("needs no ICE servers by default (host candidates on loopback and LAN)", () => {
		expect(iceServersFor(readIceConfig({}), "u1")).toEqual([]);
	});

	it("serves STUN URLs from ICE_STUN_URLS", () => {
		const config = readIceConfig({ ICE_STUN_URLS: "stun:a.example:3478, stun:b.example:3478" });
		expect(iceServersFor(config, "u1")).toEqual([{ urls: ["stun:a.example:3478", "stun:b.example:3478"] }]);
	});

	it("issues TURN REST credentials coturn's use-auth-secret accepts: expiry:userId signed with HMAC-SHA1", () => {
		const secret = "s3cret-s3cret-s3cret";
		const config = readIceConfig({
			TURN_URL: "turn:turn.example:3478?transport=udp",
			TURN_SECRET: secret,
			TURN_TTL_S: "600",
		});
		const [turn] = iceServersFor(config, "user-7", 1_700_000_000_000);
		expect(turn?.username).toBe("1700000600:user-7");
		expect(turn?.credential).toBe(createHmac("sha1", secret).update("1700000600:user-7").digest("base64"));
		expect(turn?.urls).toEqual(["turn:turn.example:3478?transport=udp"]);
	});

	it("fails at boot on bad values", () => {
		expect(() => readIceConfig({ ICE_STUN_URLS: "http://nope" })).toThrow(/ICE_STUN_URLS/);
		expect(() => readIceConfig({ TURN_URLS: "turn:t.example" })).toThrow(/TURN_SECRET/);
		expect(() => readIceConfig({ TURN_URLS: "turn:t.example", TURN_SECRET: "short" })).toThrow(/16 characters/);
		expect(() => readIceConfig({ TURN_TTL_S: "5" })).toThrow(/TURN_TTL_S/);
	});
});
