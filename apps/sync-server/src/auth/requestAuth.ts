import type { FastifyRequest } from "fastify";
import type { Db } from "../db/database.ts";
import { ApiError } from "../http/errors.ts";
import { isAllowedOrigin } from "../http/origin.ts";
import { TokenError, type TokenService } from "./tokens.ts";
import { findUserById, type UserRow } from "./users.ts";

/** Name of the httpOnly cookie set by /login and /register. */
export const TOKEN_COOKIE = "tandem_token";

export interface AuthDeps {
	readonly db: Db;
	readonly tokens: TokenService;
	readonly allowedOrigins: readonly string[];
}

/** The user a token belongs to, if the token is valid and of the user's current version. */
export async function userForToken(deps: Pick<AuthDeps, "db" | "tokens">, token: string): Promise<UserRow> {
	const claims = await deps.tokens.verify(token);
	const user = await findUserById(deps.db, claims.userId);
	if (!user || user.tokenVersion !== claims.tokenVersion) throw new TokenError("token revoked");
	return user;
}

/** Read a token from a Cookie header (for WebSocket upgrades, which have no parsed cookies). */
export function tokenFromCookieHeader(header: string | null | undefined): string | undefined {
	if (!header) return undefined;
	for (const part of header.split(";")) {
		const [name, ...rest] = part.trim().split("=");
		if (name === TOKEN_COOKIE) return decodeURIComponent(rest.join("="));
	}
	return undefined;
}

/**
 * Authenticate a REST request by `Authorization: Bearer` or the cookie. A cookie-carrying
 * unsafe request from a foreign origin is refused (RELIABILITY 28).
 */
export async function requireUser(deps: AuthDeps, request: FastifyRequest): Promise<UserRow> {
	const header = request.headers.authorization;
	let token: string | undefined;
	if (header !== undefined) {
		const match = /^Bearer\s+(\S+)$/i.exec(header);
		if (!match?.[1]) throw new ApiError("unauthorized", "Authorization header must be 'Bearer <token>'");
		token = match[1];
	} else {
		token = request.cookies[TOKEN_COOKIE];
		if (token && request.method !== "GET" && request.method !== "HEAD") {
			if (!isAllowedOrigin(request.headers.origin, request.headers.host, deps.allowedOrigins)) {
				throw new ApiError("forbidden", "Cross-site request refused");
			}
		}
	}
	if (!token) throw new ApiError("unauthorized", "Authentication required");
	try {
		return await userForToken(deps, token);
	} catch (e: unknown) {
		if (e instanceof TokenError) throw new ApiError("unauthorized", "Invalid or expired token", { cause: e });
		throw e;
	}
}
