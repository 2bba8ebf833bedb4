import { encodeDocument, isLanguageId, LANGUAGES, seedDocument } from "@tandem/crdt-schema";
import type { FastifyInstance } from "fastify";
import * as Y from "yjs";
import { z } from "zod";
import { LoginThrottle, type Throttle } from "../auth/LoginThrottle.ts";
import { findUserById, findUserByLogin, isGuest, type UserRow } from "../auth/users.ts";
import { applyRoleToConnections } from "../collab/AuthExtension.ts";
import { viewSessionDocument } from "../collab/documents.ts";
import { ApiError, parseInput } from "../http/errors.ts";
import type { ServerContext } from "../server.ts";
import { upsertInvitation } from "./invitations.ts";
import { GRANTABLE_ROLES, isManager } from "./roles.ts";
import { isSessionId, newSessionId, SESSION_ID_PATTERN } from "./sessionIds.ts";
import {
	findSession,
	insertSession,
	listParticipants,
	listSessionsFor,
	roleOf,
	type SessionRow,
	upsertParticipant,
} from "./sessionRepository.ts";

/** Largest code accepted at creation; bigger documents are edited, not pasted in one request. */
const MAX_SEED_CODE_CHARS = 512 * 1024;

const languageField = z.string().refine(isLanguageId, {
	message: `language must be one of: ${LANGUAGES.map((l) => l.id).join(", ")}`,
});

const createBody = z.object({
	id: z.string().regex(SESSION_ID_PATTERN, "id must be 21-64 characters of A-Z, a-z, 0-9, '_' or '-'").optional(),
	title: z.string().trim().max(200, "title must be at most 200 characters").optional(),
	language: languageField.optional(),
	code: z.string().max(MAX_SEED_CODE_CHARS, `code must be at most ${MAX_SEED_CODE_CHARS} characters`).optional(),
});

const inviteBody = z
	.object({
		sessionId: z.string().min(1, "sessionId is required"),
		username: z.string().trim().min(1).max(254).optional(),
		email: z.string().trim().min(1).max(254).optional(),
		userId: z.string().trim().min(1).max(64).optional(),
		role: z.enum(GRANTABLE_ROLES, { message: 'role must be "interviewer", "editor" or "viewer"' }).default("editor"),
	})
	.refine((b) => b.username !== undefined || b.email !== undefined || b.userId !== undefined, {
		message: "username, email or userId is required",
	});

const sessionParams = z.object({ sessionId: z.string() });

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
	const role = await roleOf(ctx.db, sessionId, user.id);
	if (!role) throw new ApiError("forbidden", "You are not a participant of this session");
	return { row, role };
}

/** POST /create-session, GET /session/{id}, POST /invite-user, GET /sessions. */
export function registerSessionRoutes(
	app: FastifyInstance,
	ctx: ServerContext,
	guesses: Throttle = new LoginThrottle(GUESS_LIMITS),
): void {
	app.post("/create-session", async (request, reply) => {
		const user = await ctx.requireUser(request);
		if (isGuest(user)) throw new ApiError("forbidden", "A guest account reaches only the session it joined");
		const body = parseInput(createBody, request.body);
		const language = body.language ?? "python";
		const title = body.title ?? "";
		const code = body.code ?? "";
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

	app.get("/sessions", async (request) => {
		const user = await ctx.requireUser(request);
		const rows = await listSessionsFor(ctx.db, user.id);
		return {
			sessions: rows.map((r) => ({
				id: r.id,
				title: r.title,
				language: r.language,
				role: r.role,
				createdAt: r.createdAt.toISOString(),
				updatedAt: r.updatedAt.toISOString(),
			})),
		};
	});

	app.post("/invite-user", async (request, reply) => {
		const user = await ctx.requireUser(request);
		const body = parseInput(inviteBody, request.body);
		const { row, role } = await sessionForParticipant(ctx, body.sessionId, user, guesses, request.ip);
		if (!isManager(role)) throw new ApiError("forbidden", "Only the owner and interviewers can invite");
		const invitee = body.userId
			? await findUserById(ctx.db, body.userId)
			: await findUserByLogin(ctx.db, (body.username ?? body.email) as string);
		if (!invitee && body.email !== undefined && body.userId === undefined) {
			// No account with that email yet: a pending invitation that registering with it claims.
			const email = z.email().safeParse(body.email.toLowerCase());
			if (!email.success) throw new ApiError("invalid_input", "email must be a valid address");
			const { invitation, created } = await upsertInvitation(ctx.db, {
				sessionId: row.id,
				email: email.data,
				role: body.role,
				invitedById: user.id,
			});
			reply.status(created ? 201 : 200);
			return { invitation };
		}
		if (!invitee || isGuest(invitee)) throw new ApiError("not_found", "No such user");
		if (invitee.id === row.ownerId) throw new ApiError("invalid_input", "The owner is already a participant");
		const { created, joinedAt } = await upsertParticipant(ctx.db, row.id, invitee.id, body.role);
		applyRoleToConnections(ctx.hocuspocus, row.id, invitee.id, body.role);
		const view = await viewSessionDocument(ctx.hocuspocus, ctx.store, row.id).catch(() => undefined);
		void ctx.events.publish(invitee.id, {
			type: "session.invited",
			by: { id: user.id, username: user.username },
			session: {
				id: row.id,
				title: view?.title ?? row.title,
				language: view?.language ?? row.language,
				role: body.role,
			},
		});
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
