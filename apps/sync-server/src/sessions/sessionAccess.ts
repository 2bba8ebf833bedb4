import type { FastifyRequest } from "fastify";
import type { UserRow } from "../auth/users.ts";
import { ApiError } from "../http/errors.ts";
import type { ServerContext } from "../server.ts";
import { ROLES, type Role } from "./roles.ts";
import { isSessionId } from "./sessionIds.ts";
import { findSession, roleOf, type SessionRow } from "./sessionRepository.ts";

/**
 * For route groups: authenticate the request and check the user's role in a session.
 * 401 without valid credentials, 404 for an unknown (or malformed) id, 403 for a
 * non-participant or a role not in `allowed`.
 */
export async function requireSessionRole(
	ctx: ServerContext,
	request: FastifyRequest,
	sessionId: string,
	allowed: readonly Role[] = ROLES,
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
 * Roles that may read a session's history, notes and other reviewer tools: the owner and
 * interviewers (CONTRACT "History"). `interviewer` is listed ahead of the role itself so that
 * every reviewer route asks this one helper.
 */
export const REVIEWER_ROLES: readonly string[] = ["owner", "interviewer"];

/** True when `role` may review the session (see REVIEWER_ROLES). */
export function isReviewer(role: string | null | undefined): boolean {
	return role != null && REVIEWER_ROLES.includes(role);
}

/** requireSessionRole for the owner and interviewers only: 401, 404, then 403 in words for anyone else. */
export async function requireReviewer(
	ctx: ServerContext,
	request: FastifyRequest,
	sessionId: string,
): Promise<{ user: UserRow; role: Role; session: SessionRow }> {
	const user = await ctx.requireUser(request);
	const session = isSessionId(sessionId) ? await findSession(ctx.db, sessionId) : undefined;
	if (!session) throw new ApiError("not_found", "Session not found");
	const role = await roleOf(ctx.db, sessionId, user.id);
	if (!role) throw new ApiError("forbidden", "You are not a participant of this session");
	if (!isReviewer(role))
		throw new ApiError("forbidden", "Only the owner and interviewers may see the session's history");
	return { user, role, session };
}
