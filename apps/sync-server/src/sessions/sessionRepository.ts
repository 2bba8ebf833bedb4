import { and, desc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { documents, participants, sessions, users } from "../db/schema.ts";
import { isRole, type Role } from "./roles.ts";

export type { Role } from "./roles.ts";

export type SessionRow = typeof sessions.$inferSelect;

export interface ParticipantView {
	readonly userId: string;
	readonly username: string;
	readonly role: Role;
	readonly joinedAt: string;
	/** A guest account made by POST /join (its `username` is the name it typed). */
	readonly guest: boolean;
}

/** The name shown for a user: a guest's typed name, else the username. */
export function shownName(user: { username: string; displayName: string | null }): string {
	return user.displayName ?? user.username;
}

export async function findSession(db: Db, id: string): Promise<SessionRow | undefined> {
	const rows = await db.select().from(sessions).where(eq(sessions.id, id));
	return rows[0];
}

/** The user's role in the session, or null for non-participants and unknown sessions. */
export async function roleOf(db: Db, sessionId: string, userId: string): Promise<Role | null> {
	const rows = await db
		.select({ role: participants.role })
		.from(participants)
		.where(and(eq(participants.sessionId, sessionId), eq(participants.userId, userId)));
	const role = rows[0]?.role;
	return isRole(role) ? role : null;
}

/** What decides a connection's rights: the role (null: not a participant) and whether the interview ended. */
export interface SessionAccess {
	readonly role: Role | null;
	readonly endedAt: Date | null;
}

/** The user's role and the session's end in one query; undefined for an unknown session. */
export async function accessOf(db: Db, sessionId: string, userId: string): Promise<SessionAccess | undefined> {
	const rows = await db
		.select({ endedAt: sessions.endedAt, role: participants.role })
		.from(sessions)
		.leftJoin(participants, and(eq(participants.sessionId, sessions.id), eq(participants.userId, userId)))
		.where(eq(sessions.id, sessionId));
	const row = rows[0];
	if (!row) return undefined;
	return { role: isRole(row.role) ? row.role : null, endedAt: row.endedAt };
}

/** Create the session row, its owner participant and (when seeded) the initial document state, atomically. */
export async function insertSession(
	db: Db,
	values: { id: string; ownerId: string; title: string; code: string; language: string; state: Uint8Array | null },
): Promise<SessionRow> {
	return db.transaction(async (tx) => {
		const [row] = await tx
			.insert(sessions)
			.values({
				id: values.id,
				ownerId: values.ownerId,
				title: values.title,
				code: values.code,
				language: values.language,
			})
			.returning();
		if (!row) throw new Error("insert returned no row");
		await tx
			.insert(participants)
			.values({ sessionId: row.id, userId: values.ownerId, role: "owner", joinedAt: row.createdAt });
		if (values.state) await tx.insert(documents).values({ sessionId: row.id, state: values.state });
		return row;
	});
}

export async function listParticipants(db: Db, sessionId: string): Promise<ParticipantView[]> {
	const rows = await db
		.select({
			userId: participants.userId,
			username: users.username,
			displayName: users.displayName,
			guestSessionId: users.guestSessionId,
			role: participants.role,
			joinedAt: participants.joinedAt,
		})
		.from(participants)
		.innerJoin(users, eq(users.id, participants.userId))
		.where(eq(participants.sessionId, sessionId))
		.orderBy(participants.joinedAt);
	return rows.map((r) => ({
		userId: r.userId,
		username: shownName(r),
		role: isRole(r.role) ? r.role : "viewer",
		joinedAt: r.joinedAt.toISOString(),
		guest: r.guestSessionId !== null,
	}));
}

/** Add a participant or change their role; returns whether the row is new. */
export async function upsertParticipant(
	db: Db,
	sessionId: string,
	userId: string,
	role: Role,
): Promise<{ created: boolean; joinedAt: Date }> {
	const existing = await db
		.select({ joinedAt: participants.joinedAt })
		.from(participants)
		.where(and(eq(participants.sessionId, sessionId), eq(participants.userId, userId)));
	if (existing[0]) {
		await db
			.update(participants)
			.set({ role })
			.where(and(eq(participants.sessionId, sessionId), eq(participants.userId, userId)));
		return { created: false, joinedAt: existing[0].joinedAt };
	}
	const [row] = await db.insert(participants).values({ sessionId, userId, role }).returning();
	return { created: true, joinedAt: row?.joinedAt ?? new Date() };
}

/** Where a page of GET /sessions ends: the last row's `updated_at` (Postgres text, microseconds kept) and id. */
export interface SessionCursor {
	readonly updatedAt: string;
	readonly id: string;
}

/**
 * One page of the sessions the user owns or joined, most recently updated first (ties by id), after
 * `cursor` when given. Each row carries the cursor that continues after it.
 */
export async function listSessionsFor(db: Db, userId: string, limit: number, cursor?: SessionCursor) {
	const mine = eq(participants.userId, userId);
	return db
		.select({
			id: sessions.id,
			title: sessions.title,
			language: sessions.language,
			role: participants.role,
			updatedAt: sessions.updatedAt,
			createdAt: sessions.createdAt,
			// Text keeps the microseconds a JS Date would drop (rows between two milliseconds would be skipped).
			cursorAt: sql<string>`${sessions.updatedAt}::text`,
		})
		.from(participants)
		.innerJoin(sessions, eq(sessions.id, participants.sessionId))
		.where(
			cursor
				? and(mine, sql`(${sessions.updatedAt}, ${sessions.id}) < (${cursor.updatedAt}::timestamptz, ${cursor.id})`)
				: mine,
		)
		.orderBy(desc(sessions.updatedAt), desc(sessions.id))
		.limit(limit);
}

/** Remove one participant (leaving); returns whether there was one. */
export async function removeParticipant(db: Db, sessionId: string, userId: string): Promise<boolean> {
	const rows = await db
		.delete(participants)
		.where(and(eq(participants.sessionId, sessionId), eq(participants.userId, userId)))
		.returning({ userId: participants.userId });
	return rows.length > 0;
}

/** Remove a participant; returns whether there was one. */
export async function deleteParticipant(db: Db, sessionId: string, userId: string): Promise<boolean> {
	const rows = await db
		.delete(participants)
		.where(and(eq(participants.sessionId, sessionId), eq(participants.userId, userId)))
		.returning({ userId: participants.userId });
	return rows.length > 0;
}

/** End (a date) or reopen (null) the interview; returns the updated row. */
export async function setSessionEnded(
	db: Db,
	sessionId: string,
	endedAt: Date | null,
): Promise<SessionRow | undefined> {
	const rows = await db.update(sessions).set({ endedAt }).where(eq(sessions.id, sessionId)).returning();
	return rows[0];
}
