import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { issue } from "../auth/authRoutes.ts";
import type { Throttle } from "../auth/LoginThrottle.ts";
import { TOKEN_COOKIE } from "../auth/requestAuth.ts";
import { insertGuest, isGuest, MAX_GUEST_NAME_CHARS, publicUser, type UserRow } from "../auth/users.ts";
import { applyEndedToConnections, applyRoleToConnections } from "../collab/AuthExtension.ts";
import { ApiError, parseInput } from "../http/errors.ts";
import { isAllowedOrigin } from "../http/origin.ts";
import { sendToSession } from "../runs/sessionBroadcast.ts";
import type { ServerContext } from "../server.ts";
import {
	deleteInviteLink,
	findInviteLinkByToken,
	type InviteLinkRow,
	insertInviteLink,
	listInviteLinks,
} from "./inviteLinks.ts";
import { GRANTABLE_ROLES, LINK_ROLES, MANAGER_ROLES, type Role } from "./roles.ts";
import { requireSessionRole } from "./sessionAccess.ts";
import {
	deleteParticipant,
	listParticipants,
	roleOf,
	setSessionEnded,
	upsertParticipant,
} from "./sessionRepository.ts";
import { sessionJson } from "./sessionRoutes.ts";

const sessionParams = z.object({ sessionId: z.string().max(256) });
const linkParams = z.object({ sessionId: z.string().max(256), linkId: z.string().min(1).max(64) });
const participantParams = z.object({ sessionId: z.string().max(256), userId: z.string().min(1).max(64) });
const linkBody = z.object({
	role: z.enum(LINK_ROLES, { message: 'role must be "editor" or "viewer"' }),
});
const roleBody = z.object({
	role: z.enum(GRANTABLE_ROLES, { message: 'role must be "interviewer", "editor" or "viewer"' }),
});
const joinBody = z.object({
	token: z.string().min(1, "token is required").max(128),
	name: z
		.string()
		.trim()
		.min(1, "name must not be empty")
		.max(MAX_GUEST_NAME_CHARS, `name must be at most ${MAX_GUEST_NAME_CHARS} characters`)
		.optional(),
});

/** Stateless message telling a session's pages that its participants, links or end changed: `{"type":"participants"}`. */
export const PARTICIPANTS_MESSAGE = JSON.stringify({ type: "participants" });

/** The origin people open links on: the browser's own (when this server serves it), else this server's. */
function publicOrigin(ctx: ServerContext, request: FastifyRequest): string {
	const origin = request.headers.origin;
	if (origin && isAllowedOrigin(origin, request.headers.host, ctx.config.allowedOrigins)) return origin;
	return `${request.protocol}://${request.host}`;
}

function linkJson(origin: string, row: InviteLinkRow) {
	return {
		id: row.id,
		role: row.role,
		url: `${origin}/join/${row.token}`,
		createdAt: row.createdAt.toISOString(),
		createdBy: row.createdById,
	};
}

/** Whether the request carries credentials (a bearer header or the cookie). */
function hasCredentials(request: FastifyRequest): boolean {
	return request.headers.authorization !== undefined || Boolean(request.cookies[TOKEN_COOKIE]);
}

async function issueToken(ctx: ServerContext, reply: FastifyReply, user: UserRow, secure: boolean): Promise<string> {
	return (await issue(ctx, reply, user, secure)).token;
}

/** Ranks for "never lower an existing role by opening a link". */
const RANK: Readonly<Record<Role, number>> = Object.freeze({ viewer: 0, editor: 1, interviewer: 2, owner: 3 });

/**
 * Invite links, POST /join (accounts and guests), participants, and the end of an interview
 * (CONTRACT "Interviews: roles, links, participants"). Changes reach open sockets on this node
 * at once (AccessWatcher carries them to other nodes).
 */
export function registerInterviewRoutes(app: FastifyInstance, ctx: ServerContext, guesses: Throttle): void {
	const announce = (sessionId: string) => sendToSession(ctx.hocuspocus, sessionId, () => PARTICIPANTS_MESSAGE);

	app.post("/session/:sessionId/links", async (request, reply) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		const { user } = await requireSessionRole(ctx, request, sessionId, MANAGER_ROLES);
		const body = parseInput(linkBody, request.body);
		const row = await insertInviteLink(ctx.db, { sessionId, role: body.role, createdById: user.id });
		reply.status(201);
		return linkJson(publicOrigin(ctx, request), row);
	});

	app.get("/session/:sessionId/links", async (request) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		await requireSessionRole(ctx, request, sessionId, MANAGER_ROLES);
		const origin = publicOrigin(ctx, request);
		return (await listInviteLinks(ctx.db, sessionId)).map((row) => linkJson(origin, row));
	});

	app.delete("/session/:sessionId/links/:linkId", async (request, reply) => {
		const { sessionId, linkId } = parseInput(linkParams, request.params);
		await requireSessionRole(ctx, request, sessionId, MANAGER_ROLES);
		if (!(await deleteInviteLink(ctx.db, sessionId, linkId))) throw new ApiError("not_found", "No such link");
		reply.status(204);
		return null;
	});

	app.post("/join", async (request, reply) => {
		const body = parseInput(joinBody, request.body);
		const throttleKey = "join-link";
		const wait = await guesses.peek(throttleKey, request.ip);
		if (wait > 0) {
			throw new ApiError("rate_limited", "Too many unknown links; try again later", {
				headers: { "retry-after": String(wait) },
			});
		}
		const link = await findInviteLinkByToken(ctx.db, body.token);
		if (!link) {
			await guesses.fail(throttleKey, request.ip);
			throw new ApiError("not_found", "This invite link is not valid or was revoked; ask for a new one");
		}
		const secure = request.protocol === "https";
		const account = hasCredentials(request) ? await ctx.requireUser(request) : null;
		// A guest account reaches only its own session: for another link it counts as no account.
		if (account && (!isGuest(account) || account.guestSessionId === link.sessionId)) {
			const current = await roleOf(ctx.db, link.sessionId, account.id);
			let role: Role = link.role;
			if (current && RANK[current] >= RANK[link.role]) role = current;
			else {
				await upsertParticipant(ctx.db, link.sessionId, account.id, link.role);
				applyRoleToConnections(ctx.hocuspocus, link.sessionId, account.id, link.role);
				announce(link.sessionId);
			}
			const token = await issueToken(ctx, reply, account, secure);
			return { token, user: publicUser(account), sessionId: link.sessionId, role };
		}
		if (body.name === undefined) {
			throw new ApiError("invalid_input", "name is required: the name the others in the session will see");
		}
		const guest = await insertGuest(ctx.db, { displayName: body.name, sessionId: link.sessionId });
		await upsertParticipant(ctx.db, link.sessionId, guest.id, link.role);
		announce(link.sessionId);
		const token = await issueToken(ctx, reply, guest, secure);
		return { token, user: publicUser(guest), sessionId: link.sessionId, role: link.role };
	});

	app.get("/session/:sessionId/participants", async (request) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		await requireSessionRole(ctx, request, sessionId);
		return listParticipants(ctx.db, sessionId);
	});

	app.put("/session/:sessionId/participants/:userId", async (request) => {
		const { sessionId, userId } = parseInput(participantParams, request.params);
		const { session } = await requireSessionRole(ctx, request, sessionId, MANAGER_ROLES);
		const body = parseInput(roleBody, request.body);
		if (userId === session.ownerId) throw new ApiError("forbidden", "The owner's role cannot be changed");
		if (!(await roleOf(ctx.db, sessionId, userId))) throw new ApiError("not_found", "No such participant");
		await upsertParticipant(ctx.db, sessionId, userId, body.role);
		applyRoleToConnections(ctx.hocuspocus, sessionId, userId, body.role);
		announce(sessionId);
		const participant = (await listParticipants(ctx.db, sessionId)).find((p) => p.userId === userId);
		if (!participant) throw new ApiError("not_found", "No such participant");
		return participant;
	});

	app.delete("/session/:sessionId/participants/:userId", async (request, reply) => {
		const { sessionId, userId } = parseInput(participantParams, request.params);
		const { session } = await requireSessionRole(ctx, request, sessionId, MANAGER_ROLES);
		if (userId === session.ownerId) throw new ApiError("forbidden", "The owner cannot be removed");
		if (!(await deleteParticipant(ctx.db, sessionId, userId))) throw new ApiError("not_found", "No such participant");
		applyRoleToConnections(ctx.hocuspocus, sessionId, userId, null);
		announce(sessionId);
		reply.status(204);
		return null;
	});

	for (const action of ["end", "reopen"] as const) {
		app.post(`/session/:sessionId/${action}`, async (request) => {
			const { sessionId } = parseInput(sessionParams, request.params);
			const { session } = await requireSessionRole(ctx, request, sessionId, MANAGER_ROLES);
			const endedAt = action === "end" ? (session.endedAt ?? new Date()) : null;
			const row = (await setSessionEnded(ctx.db, sessionId, endedAt)) ?? session;
			applyEndedToConnections(ctx.hocuspocus, sessionId, endedAt !== null);
			announce(sessionId);
			return sessionJson(ctx, row);
		});
	}
}
