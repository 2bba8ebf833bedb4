import { and, eq } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { invitations, participants } from "../db/schema.ts";
import type { GrantableRole } from "./roles.ts";
import { isRole } from "./roles.ts";

/** A pending invitation as POST /invite-user answers it (CONTRACT "Interviews"). */
export interface InvitationView {
	readonly email: string;
	readonly role: GrantableRole;
	readonly status: "pending";
}

/**
 * Invite an email that has no account yet: a pending invitation (one per session and email;
 * inviting again changes its role) that registering with that email claims.
 */
export async function upsertInvitation(
	db: Db,
	values: { sessionId: string; email: string; role: GrantableRole; invitedById: string },
): Promise<{ invitation: InvitationView; created: boolean }> {
	const email = values.email.trim().toLowerCase();
	const existing = await db
		.select({ role: invitations.role })
		.from(invitations)
		.where(and(eq(invitations.sessionId, values.sessionId), eq(invitations.email, email)));
	const rows = await db
		.insert(invitations)
		.values({ sessionId: values.sessionId, email, role: values.role, invitedById: values.invitedById })
		.onConflictDoUpdate({ target: [invitations.sessionId, invitations.email], set: { role: values.role } })
		.returning({ role: invitations.role });
	const created = existing.length === 0;
	return { invitation: { email, role: (rows[0]?.role ?? values.role) as GrantableRole, status: "pending" }, created };
}

/**
 * Turn every pending invitation of `email` into participation of `userId` (called once the
 * account exists, by POST /register). Returns the sessions joined, with their roles.
 */
export async function claimInvitations(
	db: Db,
	userId: string,
	email: string,
): Promise<{ sessionId: string; role: GrantableRole }[]> {
	const normalized = email.trim().toLowerCase();
	return db.transaction(async (tx) => {
		const pending = await tx.delete(invitations).where(eq(invitations.email, normalized)).returning();
		const joined: { sessionId: string; role: GrantableRole }[] = [];
		for (const p of pending) {
			if (!isRole(p.role) || p.role === "owner") continue;
			await tx.insert(participants).values({ sessionId: p.sessionId, userId, role: p.role }).onConflictDoNothing();
			joined.push({ sessionId: p.sessionId, role: p.role });
		}
		return joined;
	});
}
