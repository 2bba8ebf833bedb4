import { eq, or, sql } from "drizzle-orm";
import { nanoid } from "nanoid";
import type { Db } from "../db/database.ts";
import { users } from "../db/schema.ts";

export type UserRow = typeof users.$inferSelect;

/** A user as the API shows it: never the password hash. */
export interface PublicUser {
	readonly id: string;
	/** For a guest, the name it typed on /join. */
	readonly username: string;
	readonly email: string;
	readonly createdAt: string;
	readonly updatedAt: string;
	/** Present and true for a guest account (POST /join without an account). */
	readonly guest?: true;
}

export function publicUser(u: UserRow): PublicUser {
	return {
		id: u.id,
		username: u.displayName ?? u.username,
		email: u.guestSessionId !== null ? "" : u.email,
		createdAt: u.createdAt.toISOString(),
		updatedAt: u.updatedAt.toISOString(),
		...(u.guestSessionId !== null ? { guest: true as const } : {}),
	};
}

/** Usernames compare without case (RELIABILITY 50): the unique index is on lower(username). */
const sameUsername = (username: string) => eq(sql`lower(${users.username})`, username.toLowerCase());

/** Longest name a guest may type on /join. */
export const MAX_GUEST_NAME_CHARS = 64;

/**
 * Make a guest account for one session: it has no password (it cannot log in) and reaches only
 * `sessionId`. Its username and email are internal and unique; people see `displayName`.
 */
export async function insertGuest(db: Db, values: { displayName: string; sessionId: string }): Promise<UserRow> {
	const id = nanoid();
	const [row] = await db
		.insert(users)
		.values({
			id,
			username: `guest~${id}`,
			email: `${id}@guest.invalid`,
			passwordHash: "",
			displayName: values.displayName,
			guestSessionId: values.sessionId,
		})
		.returning();
	if (!row) throw new Error("insert returned no row");
	return row;
}

/** Whether this is a guest account (made by POST /join; reaches one session only). */
export function isGuest(u: UserRow): boolean {
	return u.guestSessionId !== null;
}

/** Which unique field a new user collides with, if any (the username regardless of case). */
export async function takenField(db: Db, username: string, email: string): Promise<"username" | "email" | null> {
	const rows = await db
		.select({ username: users.username, email: users.email })
		.from(users)
		.where(or(sameUsername(username), eq(users.email, email.toLowerCase())));
	if (rows.some((r) => r.username.toLowerCase() === username.toLowerCase())) return "username";
	if (rows.some((r) => r.email === email.toLowerCase())) return "email";
	return null;
}

export async function insertUser(
	db: Db,
	values: { username: string; email: string; passwordHash: string },
): Promise<UserRow> {
	const [row] = await db
		.insert(users)
		.values({ id: nanoid(), ...values })
		.returning();
	if (!row) throw new Error("insert returned no row");
	return row;
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
	const rows = await db.select().from(users).where(eq(users.id, id));
	return rows[0];
}

/**
 * Look a user up by username (any case) or email (any case). Usernames cannot hold '@', so one
 * login string names at most one account.
 */
export async function findUserByLogin(db: Db, login: string): Promise<UserRow | undefined> {
	const rows = await db
		.select()
		.from(users)
		.where(or(sameUsername(login), eq(users.email, login.toLowerCase())));
	return rows[0];
}

/** The user with this username (any case), if any; never matched by email. */
export async function findUserByUsername(db: Db, username: string): Promise<UserRow | undefined> {
	const rows = await db.select().from(users).where(sameUsername(username));
	return rows[0];
}

/** The user with this email (any case), if any. */
export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
	const rows = await db.select().from(users).where(eq(users.email, email.toLowerCase()));
	return rows[0];
}

/** Replace the password hash and invalidate every token issued before (one statement). */
export async function changePasswordHash(db: Db, userId: string, passwordHash: string): Promise<UserRow | undefined> {
	const rows = await db
		.update(users)
		.set({ passwordHash, tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: new Date() })
		.where(eq(users.id, userId))
		.returning();
	return rows[0];
}

/** Bump the token version so every token issued before dies (logout). */
export async function bumpTokenVersion(db: Db, userId: string): Promise<void> {
	await db
		.update(users)
		.set({ tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: new Date() })
		.where(eq(users.id, userId));
}
