import type { FastifyRequest } from "fastify";
import type { UserRow } from "../auth/users.ts";
import { ApiError } from "../http/errors.ts";
import type { ServerContext } from "../server.ts";
import { isSessionId } from "./sessionIds.ts";
import { findSession, type Role, roleOf, type SessionRow } from "./sessionRepository.ts";

/**
 * For route groups: authenticate the request and check the user's role in a session.
 * 401 without valid credentials, 404 for an unknown (or malformed) id, 403 for a
 * non-participant or a role not in `allowed`.
 */
export async function requireSessionRole(
	ctx: ServerContext,
	request: FastifyRequest,
	sessionId: string,
	allowed: readonly Role[] = ["owner", "editor", "viewer"],
): Promise<{ user: UserRow; role: Role; session: SessionRow }> {
	const user = await ctx.requireUser(request);
	const session = isSessionId(sessionId) ? await findSession(ctx.db, sessionId) : undefined;
	if (!session) throw new ApiError("not_found", "Session not found");
	const role = await roleOf(ctx.db, sessionId, user.id);
	if (!role) throw new ApiError("forbidden", "You are not a participant of this session");
	if (!allowed.includes(role)) throw new ApiError("forbidden", `This needs one of the roles: ${allowed.join(", ")}`);
	return { user, role, session };
}

/**
 * Whether a role runs the interview (decision 058): the owner and interviewers see private notes and
 * manage the session's interview tools; editors, viewers and everyone else do not. Takes any string
 * so roles added later (or unknown ones read from the database) are refused by default.
 */
export function canManageInterview(role: string | null | undefined): boolean {
	return role === "owner" || role === "interviewer";
}

/**
 * For interviewer-only routes: authenticate, then 404 for an unknown (or malformed) session id and
 * 403 for a non-participant or a participant who does not run the interview (canManageInterview).
 */
export async function requireInterviewAccess(
	ctx: ServerContext,
	request: FastifyRequest,
	sessionId: string,
): Promise<{ user: UserRow; role: string; session: SessionRow }> {
	const user = await ctx.requireUser(request);
	const session = isSessionId(sessionId) ? await findSession(ctx.db, sessionId) : undefined;
	if (!session) throw new ApiError("not_found", "Session not found");
	const role = await roleOf(ctx.db, sessionId, user.id);
	if (!role) throw new ApiError("forbidden", "You are not a participant of this session");
	if (!canManageInterview(role)) {
		throw new ApiError("forbidden", "Only the owner and interviewers can use the interviewer tools");
	}
	return { user, role, session };
}
