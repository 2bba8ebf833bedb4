import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { closeUserConnections } from "../collab/AuthExtension.ts";
import { ApiError, parseInput } from "../http/errors.ts";
import type { ServerContext } from "../server.ts";
import { claimInvitations } from "../sessions/invitationRepository.ts";
import type { Throttle } from "./LoginThrottle.ts";
import { hashPassword, MAX_PASSWORD_LENGTH, passwordProblem, verifyDummy, verifyPassword } from "./passwords.ts";
import { TOKEN_COOKIE } from "./requestAuth.ts";
import {
	bumpTokenVersion,
	changePasswordHash,
	findUserByLogin,
	insertUser,
	publicUser,
	takenField,
	type UserRow,
} from "./users.ts";

const registerBody = z.object({
	username: z
		.string()
		.trim()
		.regex(/^[A-Za-z0-9_.-]{3,32}$/, "username must be 3-32 letters, digits, '_', '.' or '-'"),
	email: z.string().trim().toLowerCase().pipe(z.email("email must be a valid address")).pipe(z.string().max(254)),
	password: z.string().max(MAX_PASSWORD_LENGTH, `password must be at most ${MAX_PASSWORD_LENGTH} characters`),
});

const loginBody = z
	.object({
		email: z.string().trim().min(1).max(254).optional(),
		username: z.string().trim().min(1).max(254).optional(),
		password: z.string().min(1, "password is required").max(MAX_PASSWORD_LENGTH),
	})
	.refine((b) => b.email !== undefined || b.username !== undefined, { message: "email or username is required" });

function setTokenCookie(reply: FastifyReply, token: string, maxAgeSeconds: number, secure: boolean): void {
	reply.setCookie(TOKEN_COOKIE, token, { httpOnly: true, sameSite: "lax", path: "/", maxAge: maxAgeSeconds, secure });
}

/**
 * Sign a token for `user`, set it as the httpOnly cookie the browser uses (RELIABILITY 51), and
 * answer `{token, user}` (scripts use the token as a bearer). `secure`: the request came over TLS.
 */
export async function issue(ctx: ServerContext, reply: FastifyReply, user: UserRow, secure: boolean) {
	const token = await ctx.tokens.sign({ userId: user.id, tokenVersion: user.tokenVersion });
	setTokenCookie(reply, token, ctx.tokens.ttlSeconds, secure);
	return { token, user: publicUser(user) };
}

const changePasswordBody = z.object({
	currentPassword: z.string().min(1, "currentPassword is required").max(MAX_PASSWORD_LENGTH),
	newPassword: z.string().max(MAX_PASSWORD_LENGTH, `newPassword must be at most ${MAX_PASSWORD_LENGTH} characters`),
});

/**
 * The throttle's account key (RELIABILITY 50): one account's username and email share one budget;
 * a login string that names no account is counted as itself, so unknown names are throttled alike.
 */
function throttleAccount(user: UserRow | undefined, login: string): string {
	return user ? `user:${user.id}` : `login:${login.toLowerCase()}`;
}

/** POST /register, POST /login, POST /logout, POST /change-password, GET /me. */
export function registerAuthRoutes(app: FastifyInstance, ctx: ServerContext, throttle: Throttle): void {
	app.post("/register", async (request, reply) => {
		const body = parseInput(registerBody, request.body);
		const problem = passwordProblem(body.password, [body.username, body.email]);
		if (problem) throw new ApiError("invalid_input", problem);
		const taken = await takenField(ctx.db, body.username, body.email);
		if (taken) throw new ApiError("conflict", `That ${taken} is already taken`);
		const passwordHash = await hashPassword(body.password);
		let user: UserRow;
		try {
			user = await insertUser(ctx.db, { username: body.username, email: body.email, passwordHash });
		} catch (e: unknown) {
			// A concurrent registration won the unique index between the check and the insert.
			const again = await takenField(ctx.db, body.username, body.email);
			if (again) throw new ApiError("conflict", `That ${again} is already taken`, { cause: e });
			throw e;
		}
		// Invitations sent to this email before the account existed become participation.
		await claimInvitations(ctx.db, user);
		reply.status(201);
		return issue(ctx, reply, user, request.protocol === "https");
	});

	app.post("/login", async (request, reply) => {
		const body = parseInput(loginBody, request.body);
		const login = (body.email ?? body.username ?? "").trim();
		const user = await findUserByLogin(ctx.db, login);
		const account = throttleAccount(user, login);
		const wait = await throttle.check(account, request.ip);
		if (wait > 0) {
			throw new ApiError("rate_limited", "Too many login attempts; try again later", {
				headers: { "retry-after": String(wait) },
			});
		}
		const ok = user ? await verifyPassword(user.passwordHash, body.password) : await verifyDummy(body.password);
		if (!user || !ok) {
			await throttle.fail(account, request.ip);
			throw new ApiError("unauthorized", "Invalid credentials");
		}
		await throttle.succeed(account, request.ip);
		// Invitations by email sent since the last visit (RELIABILITY 50).
		await claimInvitations(ctx.db, user);
		return issue(ctx, reply, user, request.protocol === "https");
	});

	app.post("/logout", async (request, reply) => {
		const user = await ctx.requireUser(request);
		await bumpTokenVersion(ctx.db, user.id);
		closeUserConnections(ctx.hocuspocus, user.id);
		reply.clearCookie(TOKEN_COOKIE, { path: "/" });
		return { ok: true };
	});

	// Every earlier token stops working and this person's open sockets close (on other nodes within one
	// access sweep); the answer carries a fresh token for this device.
	app.post("/change-password", async (request, reply) => {
		const user = await ctx.requireUser(request);
		const body = parseInput(changePasswordBody, request.body);
		const account = throttleAccount(user, user.username);
		const wait = await throttle.check(account, request.ip);
		if (wait > 0) {
			throw new ApiError("rate_limited", "Too many password attempts; try again later", {
				headers: { "retry-after": String(wait) },
			});
		}
		if (!(await verifyPassword(user.passwordHash, body.currentPassword))) {
			await throttle.fail(account, request.ip);
			throw new ApiError("forbidden", "The current password is wrong");
		}
		await throttle.succeed(account, request.ip);
		const problem = passwordProblem(body.newPassword, [user.username, user.email]);
		if (problem) throw new ApiError("invalid_input", problem.replace(/^password/, "newPassword"));
		const updated = await changePasswordHash(ctx.db, user.id, await hashPassword(body.newPassword));
		if (!updated) throw new ApiError("unauthorized", "This account no longer exists");
		closeUserConnections(ctx.hocuspocus, user.id);
		return issue(ctx, reply, updated, request.protocol === "https");
	});

	app.get("/me", async (request) => {
		const user = await ctx.requireUser(request);
		return { user: publicUser(user) };
	});
}
