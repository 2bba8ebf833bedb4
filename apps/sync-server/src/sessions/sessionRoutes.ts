import {
	encodeDocument,
	isLanguageId,
	LANGUAGES,
	MAX_CODE_CHARS,
	MAX_TITLE_CHARS,
	normalizeLineEndings,
	seedDocument,
} from "@tandem/crdt-schema";
import type { FastifyInstance } from "fastify";
import * as Y from "yjs";
import { z } from "zod";
import { LoginThrottle, type Throttle, type ThrottleLimits } from "../auth/LoginThrottle.ts";
import { findUserByEmail, findUserById, findUserByUsername, isGuest, type UserRow } from "../auth/users.ts";
import { applyRoleToConnections } from "../collab/AuthExtension.ts";
import { viewSessionDocument } from "../collab/documents.ts";
import { ApiError, parseInput } from "../http/errors.ts";
import type { ServerContext } from "../server.ts";
import { claimInvitations, deleteInvitation, upsertInvitation } from "./invitationRepository.ts";
import { GRANTABLE_ROLES, isManager } from "./roles.ts";
import { isSessionId, newSessionId, SESSION_ID_PATTERN } from "./sessionIds.ts";
import {
	findSession,
	insertSession,
	listParticipants,
	listSessionsFor,
	removeParticipant,
	roleOf,
	type SessionCursor,
	type SessionRow,
	upsertParticipant,
} from "./sessionRepository.ts";

const languageField = z.string().refine(isLanguageId, {
	message: `language must be one of: ${LANGUAGES.map((l) => l.id).join(", ")}`,
});

const createBody = z.object({
	id: z.string().regex(SESSION_ID_PATTERN, "id must be 21-64 characters of A-Z, a-z, 0-9, '_' or '-'").optional(),
	title: z.string().trim().max(MAX_TITLE_CHARS, `title must be at most ${MAX_TITLE_CHARS} characters`).optional(),
	language: languageField.optional(),
	// The document's code limit (SPEC CS8, RELIABILITY 44): a seed can never start past it.
	code: z.string().max(MAX_CODE_CHARS, `code must be at most ${MAX_CODE_CHARS} characters`).optional(),
});

const inviteBody = z
	.object({
		sessionId: z.string().min(1, "sessionId is required"),
		username: z.string().trim().min(1).max(254).optional(),
		email: z.string().trim().toLowerCase().pipe(z.email("email must be a valid address")).optional(),
		userId: z.string().trim().min(1).max(64).optional(),
		role: z.enum(GRANTABLE_ROLES, { message: 'role must be "interviewer", "editor" or "viewer"' }).default("editor"),
	})
	.refine((b) => b.username !== undefined || b.email !== undefined || b.userId !== undefined, {
		message: "username, email or userId is required",
	});

const sessionParams = z.object({ sessionId: z.string() });

/** Rows per page of GET /sessions: the default, and the most one page may ask for. */
export const SESSIONS_PAGE_DEFAULT = 50;
export const SESSIONS_PAGE_MAX = 200;

const listQuery = z.object({
	limit: z.coerce
		.number()
		.int()
		.min(1)
		.max(SESSIONS_PAGE_MAX, `limit must be 1-${SESSIONS_PAGE_MAX}`)
		.default(SESSIONS_PAGE_DEFAULT),
	cursor: z.string().max(200).optional(),
});

function encodeCursor(cursor: SessionCursor): string {
	return Buffer.from(JSON.stringify([cursor.updatedAt, cursor.id])).toString("base64url");
}

/** Postgres' text form of a timestamptz, e.g. `2026-11-30 21:13:04.123456+00`. */
const CURSOR_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/;

function decodeCursor(text: string): SessionCursor {
	try {
		const value: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
		if (
			Array.isArray(value) &&
			value.length === 2 &&
			typeof value[0] === "string" &&
			CURSOR_TIMESTAMP.test(value[0]) &&
			typeof value[1] === "string" &&
			isSessionId(value[1])
		) {
			return { updatedAt: value[0], id: value[1] };
		}
	} catch {
		// falls through to the error below
	}
	throw new ApiError("invalid_input", "cursor is not one this server gave out (use nextCursor as it came)");
}

/**
 * Invitations one owner may send per window (RELIABILITY 50), counted per inviter on every node: an
 * interviewer inviting a panel never meets it; a flood of unsolicited invitations is cut to 60 an hour.
 */
export const INVITE_LIMITS: ThrottleLimits = Object.freeze({
	perAccount: Number.POSITIVE_INFINITY,
	perIp: 60,
	windowMs: 60 * 60_000,
});

/** A session as GET /session/{id} answers it (CONTRACT: with `endedAt`, null while open). */
export async function sessionJson(ctx: ServerContext, row: SessionRow) {
	const [view, participants] = await Promise.all([
		viewSessionDocument(ctx.hocuspocus, ctx.store, row.id),
		listParticipants(ctx.db, row.id),
	]);
	// A session registered by an offline client has no stored state until its first sync.
	return {
		id: row.id,
		ownerId: row.ownerId,
		title: view?.title ?? row.title,
		code: view?.code ?? row.code,
		language: view?.language ?? row.language,
		participants,
		endedAt: row.endedAt?.toISOString() ?? null,
		createdAt: row.createdAt.toISOString(),
		updatedAt: row.updatedAt.toISOString(),
	};
}

/**
 * Misses allowed per user per window before 429 (RELIABILITY 29): a person mistypes a
 * link a few times; enumerating 128-bit ids needs millions.
 */
export const GUESS_LIMITS = Object.freeze({ perAccount: 20, perIp: Number.POSITIVE_INFINITY, windowMs: 10 * 60_000 });

/** The session a participant may see: 404 unknown (or malformed id), 403 for strangers, 429 for guessers. */
export async function sessionForParticipant(
	ctx: ServerContext,
	sessionId: string,
	user: UserRow,
	guesses: Throttle,
	ip: string,
) {
	const wait = await guesses.peek(user.id, ip);
	if (wait > 0) {
		throw new ApiError("rate_limited", "Too many unknown sessions; try again later", {
			headers: { "retry-after": String(wait) },
		});
	}
	const row = isSessionId(sessionId) ? await findSession(ctx.db, sessionId) : undefined;
	if (!row) {
		await guesses.fail(user.id, ip);
		throw new ApiError("not_found", "Session not found");
	}
	let role = await roleOf(ctx.db, sessionId, user.id);
	// A pending invitation by email becomes participation the first time its account looks.
	if (!role && (await claimInvitations(ctx.db, user)).length > 0) role = await roleOf(ctx.db, sessionId, user.id);
	if (!role) throw new ApiError("forbidden", "You are not a participant of this session");
	return { row, role };
}

/**
 * POST /create-session, GET /session/{id}, POST /invite-user, GET /sessions (paged),
 * POST /session/{id}/leave.
 */
export function registerSessionRoutes(
	app: FastifyInstance,
	ctx: ServerContext,
	guesses: Throttle = new LoginThrottle(GUESS_LIMITS),
	invites: Throttle = new LoginThrottle(INVITE_LIMITS),
): void {
	app.post("/create-session", async (request, reply) => {
		const user = await ctx.requireUser(request);
		if (isGuest(user)) throw new ApiError("forbidden", "A guest account reaches only the session it joined");
		const body = parseInput(createBody, request.body);
		const language = body.language ?? "python";
		const title = body.title ?? "";
		// One line-ending convention in code (SPEC CS7), in the row as in the document.
		const code = normalizeLineEndings(body.code ?? "");
		if (body.id !== undefined) {
			const existing = await findSession(ctx.db, body.id);
			if (existing) {
				if (existing.ownerId !== user.id) throw new ApiError("conflict", "That session id is taken");
				reply.status(200);
				return sessionJson(ctx, existing);
			}
		}
		let state: Uint8Array | null = null;
		if (body.id === undefined) {
			// Seed once on the server (SPEC CS4); a client-made id means the client already seeded.
			const doc = new Y.Doc();
			seedDocument(doc, { code, language, title });
			state = encodeDocument(doc);
			doc.destroy();
		}
		const id = body.id ?? newSessionId();
		try {
			const row = await insertSession(ctx.db, { id, ownerId: user.id, title, code, language, state });
			void ctx.events.publish(user.id, {
				type: "session.created",
				session: { id: row.id, title: row.title, language: row.language, role: "owner" },
			});
			reply.status(201);
			return sessionJson(ctx, row);
		} catch (e: unknown) {
			const raced = body.id !== undefined ? await findSession(ctx.db, body.id) : undefined;
			if (raced && raced.ownerId === user.id) return sessionJson(ctx, raced);
			if (raced) throw new ApiError("conflict", "That session id is taken", { cause: e });
			throw e;
		}
	});

	app.get("/session/:sessionId", async (request) => {
		const user = await ctx.requireUser(request);
		const { sessionId } = parseInput(sessionParams, request.params);
		const { row } = await sessionForParticipant(ctx, sessionId, user, guesses, request.ip);
		return sessionJson(ctx, row);
	});

	// Paged (RELIABILITY 50): however many sessions others invite someone to, every one of theirs is
	// reachable. `nextCursor` is null on the last page.
	app.get("/sessions", async (request) => {
		const user = await ctx.requireUser(request);
		const query = parseInput(listQuery, request.query);
		const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
		if (!cursor) await claimInvitations(ctx.db, user);
		const rows = await listSessionsFor(ctx.db, user.id, query.limit + 1, cursor);
		const page = rows.slice(0, query.limit);
		const last = page.at(-1);
		return {
			sessions: page.map((r) => ({
				id: r.id,
				title: r.title,
				language: r.language,
				role: r.role,
				createdAt: r.createdAt.toISOString(),
				updatedAt: r.updatedAt.toISOString(),
			})),
			nextCursor: rows.length > query.limit && last ? encodeCursor({ updatedAt: last.cursorAt, id: last.id }) : null,
		};
	});

	// Anyone but the owner may leave (RELIABILITY 50): their sockets on this node close at once, on
	// other nodes within one access sweep, and a pending invitation cannot pull them back.
	app.post("/session/:sessionId/leave", async (request, reply) => {
		const user = await ctx.requireUser(request);
		const { sessionId } = parseInput(sessionParams, request.params);
		const { role } = await sessionForParticipant(ctx, sessionId, user, guesses, request.ip);
		if (role === "owner") {
			throw new ApiError("invalid_input", "The owner cannot leave their own session");
		}
		await deleteInvitation(ctx.db, sessionId, user.email);
		await removeParticipant(ctx.db, sessionId, user.id);
		applyRoleToConnections(ctx.hocuspocus, sessionId, user.id, null);
		reply.status(204);
		return null;
	});

	app.post("/invite-user", async (request, reply) => {
		const user = await ctx.requireUser(request);
		const body = parseInput(inviteBody, request.body);
		const { row, role } = await sessionForParticipant(ctx, body.sessionId, user, guesses, request.ip);
		if (!isManager(role)) throw new ApiError("forbidden", "Only the owner and interviewers can invite");
		// Every invitation counts, per inviter (the throttle's address budget is keyed by the inviter).
		const wait = await invites.check("invite", user.id);
		if (wait > 0) {
			throw new ApiError("rate_limited", "Too many invitations; try again later", {
				headers: { "retry-after": String(wait) },
			});
		}
		const view = await viewSessionDocument(ctx.hocuspocus, ctx.store, row.id).catch(() => undefined);
		const announce = (inviteeId: string) =>
			void ctx.events.publish(inviteeId, {
				type: "session.invited",
				by: { id: user.id, username: user.username },
				session: {
					id: row.id,
					title: view?.title ?? row.title,
					language: view?.language ?? row.language,
					role: body.role,
				},
			});
		if (body.userId === undefined && body.username === undefined && body.email !== undefined) {
			// By email the answer is the same whether an account has it or not (RELIABILITY 50): the
			// invitation waits until that account claims it (registering, or its next look at its sessions).
			if (body.email === user.email) throw new ApiError("invalid_input", "You are already a participant");
			await upsertInvitation(ctx.db, { sessionId: row.id, email: body.email, role: body.role, invitedById: user.id });
			const account = await findUserByEmail(ctx.db, body.email);
			if (account) announce(account.id);
			reply.status(201);
			return { invitation: { email: body.email, role: body.role, status: "pending" } };
		}
		const invitee = body.userId
			? await findUserById(ctx.db, body.userId)
			: await findUserByUsername(ctx.db, body.username as string);
		if (!invitee || isGuest(invitee)) throw new ApiError("not_found", "No such user");
		if (invitee.id === row.ownerId) throw new ApiError("invalid_input", "The owner is already a participant");
		const { created, joinedAt } = await upsertParticipant(ctx.db, row.id, invitee.id, body.role);
		applyRoleToConnections(ctx.hocuspocus, row.id, invitee.id, body.role);
		announce(invitee.id);
		reply.status(created ? 201 : 200);
		return {
			participant: {
				userId: invitee.id,
				username: invitee.username,
				role: body.role,
				joinedAt: joinedAt.toISOString(),
			},
		};
	});
}
