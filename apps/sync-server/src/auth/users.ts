import { eq, or, sql } from "drizzle-orm";
import { nanoid } from "nanoid";
import type { Db } from "../db/database.ts";
import { users } from "../db/schema.ts";

export type UserRow = typeof users.$inferSelect;

/** A user as the API shows it: never the password hash. */
export interface PublicUser {
	readonly id: string;
	readonly username: string;
	readonly email: string;
	readonly createdAt: string;
	readonly updatedAt: string;
}

export function publicUser(u: UserRow): PublicUser {
	return {
		id: u.id,
		username: u.username,
		email: u.email,
		createdAt: u.createdAt.toISOString(),
		updatedAt: u.updatedAt.toISOString(),
	};
}

/** Which unique field a new user collides with, if any. */
export async function takenField(db: Db, username: string, email: string): Promise<"username" | "email" | null> {
	const rows = await db
		.select({ username: users.username, email: users.email })
		.from(users)
		.where(or(eq(users.username, username), eq(users.email, email)));
	if (rows.some((r) => r.username === username)) return "username";
	if (rows.some((r) => r.email === email)) return "email";
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

/** Look a user up by username or (lower-cased) email. */
export async function findUserByLogin(db: Db, login: string): Promise<UserRow | undefined> {
	const rows = await db
		.select()
		.from(users)
		.where(or(eq(users.username, login), eq(users.email, login.toLowerCase())));
	return rows[0];
}

/** Bump the token version so every token issued before dies (logout, password change). */
/** Replace the password hash and invalidate every token issued before (one statement). */
export async function changePasswordHash(db: Db, userId: string, passwordHash: string): Promise<UserRow | undefined> {
	const rows = await db
		.update(users)
		.set({ passwordHash, tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: new Date() })
		.where(eq(users.id, userId))
		.returning();
	return rows[0];
}

export async function bumpTokenVersion(db: Db, userId: string): Promise<void> {
	await db
		.update(users)
		.set({ tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: new Date() })
		.where(eq(users.id, userId));
}
