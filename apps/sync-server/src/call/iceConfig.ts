import { createHmac } from "node:crypto";
import { z } from "zod";
import type { IceServer } from "./signals.ts";

const urlList = z
	.string()
	.optional()
	.transform((s) =>
		(s ?? "")
			.split(",")
			.map((u) => u.trim())
			.filter((u) => u.length > 0),
	)
	.pipe(z.array(z.string().regex(/^(stun|stuns|turn|turns):[^\s]+$/, "must be a stun:, stuns:, turn: or turns: URL")));

const iceEnv = z.object({
	ICE_STUN_URLS: urlList,
	TURN_URLS: urlList,
	TURN_SECRET: z.string().min(16, "TURN_SECRET must be at least 16 characters").optional(),
	// coturn's REST API credentials expire; a day covers a long pairing session.
	TURN_TTL_S: z.coerce
		.number()
		.int()
		.min(60)
		.max(7 * 24 * 3600)
		.default(24 * 3600),
});

/** ICE configuration read from the environment. */
export interface IceConfig {
	readonly stunUrls: readonly string[];
	readonly turnUrls: readonly string[];
	readonly turnSecret: string | undefined;
	readonly turnTtlS: number;
}

/**
 * Reads ICE_STUN_URLS, TURN_URLS (or TURN_URL), TURN_SECRET and TURN_TTL_S.
 * All optional: with none, peers use host candidates only (loopback and LAN).
 * Throws at boot on a malformed value, or on TURN URLs without a secret.
 */
export function readIceConfig(env: NodeJS.ProcessEnv = process.env): IceConfig {
	const parsed = iceEnv.safeParse({ ...env, TURN_URLS: env.TURN_URLS ?? env.TURN_URL });
	if (!parsed.success) {
		throw new Error(
			`Invalid ICE configuration: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
		);
	}
	const c = parsed.data;
	if (c.TURN_URLS.length > 0 && !c.TURN_SECRET)
		throw new Error("Invalid ICE configuration: TURN_URLS needs TURN_SECRET");
	return Object.freeze({
		stunUrls: Object.freeze(c.ICE_STUN_URLS),
		turnUrls: Object.freeze(c.TURN_URLS),
		turnSecret: c.TURN_SECRET,
		turnTtlS: c.TURN_TTL_S,
	});
}

/**
 * The ICE servers for one user. TURN credentials follow the TURN REST API that
 * coturn's `use-auth-secret` checks: username `expiry:userId`, credential
 * base64(HMAC-SHA1(secret, username)), expiry in Unix seconds.
 */
export function iceServersFor(config: IceConfig, userId: string, nowMs: number = Date.now()): IceServer[] {
	const servers: IceServer[] = [];
	if (config.stunUrls.length > 0) servers.push({ urls: [...config.stunUrls] });
	if (config.turnUrls.length > 0 && config.turnSecret) {
		const username = `${Math.floor(nowMs / 1000) + config.turnTtlS}:${userId}`;
		const credential = createHmac("sha1", config.turnSecret).update(username).digest("base64");
		servers.push({ urls: [...config.turnUrls], username, credential });
	}
	return servers;
}
