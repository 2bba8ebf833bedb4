import { and, eq } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { invitations, participants } from "../db/schema.ts";
import type { Role } from "./sessionRepository.ts";

/** One claimed invitation: the session it added the account to, and with which role. */
export interface ClaimedInvitation {
	readonly sessionId: string;
	readonly role: Role;
}

/** Record (or re-role) a pending invitation of `email` (stored lower-cased) to a session. */
export async function upsertInvitation(
	db: Db,
	values: { sessionId: string; email: string; role: Role; invitedById: string },
): Promise<void> {
	const row = { ...values, email: values.email.toLowerCase() };
	await db
		.insert(invitations)
		.values(row)
		.onConflictDoUpdate({
			target: [invitations.sessionId, invitations.email],
			set: { role: row.role, invitedById: row.invitedById, createdAt: new Date() },
		});
}

/**
 * Turn every pending invitation of this account's email into participation, atomically. A session
 * the account already takes part in keeps its current role. Returns the sessions newly joined.
 */
export async function claimInvitations(db: Db, user: { id: string; email: string }): Promise<ClaimedInvitation[]> {
	return db.transaction(async (tx) => {
		const pending = await tx
			.delete(invitations)
			.where(eq(invitations.email, user.email.toLowerCase()))
			.returning({ sessionId: invitations.sessionId, role: invitations.role });
		const claimed: ClaimedInvitation[] = [];
		for (const invitation of pending) {
			const inserted = await tx
				.insert(participants)
				.values({ sessionId: invitation.sessionId, userId: user.id, role: invitation.role })
				.onConflictDoNothing()
				.returning({ sessionId: participants.sessionId });
			if (inserted.length > 0) claimed.push({ sessionId: invitation.sessionId, role: invitation.role as Role });
		}
		return claimed;
	});
}

/** Forget a pending invitation (someone who left is not pulled back in by it). */
export async function deleteInvitation(db: Db, sessionId: string, email: string): Promise<void> {
	await db
		.delete(invitations)
		.where(and(eq(invitations.sessionId, sessionId), eq(invitations.email, email.toLowerCase())));
}
