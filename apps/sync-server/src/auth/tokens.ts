import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { errors, jwtVerify, SignJWT } from "jose";
import type { Db } from "../db/database.ts";
import { serverSecrets } from "../db/schema.ts";

const SECRET_NAME = "token_secret";
const ISSUER = "tandem";

/** What a valid token says: who, and which token generation. */
export interface TokenClaims {
	readonly userId: string;
	readonly tokenVersion: number;
}

/** Why a token was rejected. */
export class TokenError extends Error {
	override name = "TokenError";
	readonly code = "invalid_token";
}

/** Signs and verifies HS256 tokens; `alg` is pinned so `none` and others are refused. */
export interface TokenService {
	sign(claims: TokenClaims): Promise<string>;
	verify(token: string): Promise<TokenClaims>;
	readonly ttlSeconds: number;
}

/**
 * The signing secret: TOKEN_SECRET when set, else one generated on first boot and
 * stored in the database so every node over that database agrees.
 */
export async function resolveTokenSecret(db: Db, configured: string | undefined): Promise<Uint8Array> {
	if (configured) return new TextEncoder().encode(configured);
	const fresh = randomBytes(32).toString("base64url");
	await db.insert(serverSecrets).values({ name: SECRET_NAME, value: fresh }).onConflictDoNothing();
	const rows = await db
		.select({ value: serverSecrets.value })
		.from(serverSecrets)
		.where(eq(serverSecrets.name, SECRET_NAME));
	const value = rows[0]?.value;
	if (!value) throw new Error("token secret missing after insert");
	return new TextEncoder().encode(value);
}

export function createTokenService(secret: Uint8Array, ttlSeconds: number): TokenService {
	return {
		ttlSeconds,
		async sign({ userId, tokenVersion }) {
			return new SignJWT({ tv: tokenVersion })
				.setProtectedHeader({ alg: "HS256", typ: "JWT" })
				.setSubject(userId)
				.setIssuer(ISSUER)
				.setIssuedAt()
				.setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
				.sign(secret);
		},
		async verify(token) {
			try {
				const { payload } = await jwtVerify(token, secret, { algorithms: ["HS256"], issuer: ISSUER });
				if (typeof payload.sub !== "string" || typeof payload.tv !== "number")
					throw new TokenError("token lacks claims");
				return { userId: payload.sub, tokenVersion: payload.tv };
			} catch (e: unknown) {
				if (e instanceof TokenError) throw e;
				const reason = e instanceof errors.JWTExpired ? "token expired" : "invalid token";
				throw new TokenError(reason, { cause: e });
			}
		},
	};
}
