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
