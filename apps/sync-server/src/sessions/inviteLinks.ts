import { and, asc, eq } from "drizzle-orm";
import { customAlphabet, nanoid } from "nanoid";
import type { Db } from "../db/database.ts";
import { inviteLinks } from "../db/schema.ts";
import { isRole, type LinkRole } from "./roles.ts";

/** 32 url-safe characters: 190 bits from a CSPRNG, so a link cannot be guessed (RELIABILITY 29 asks for >= 128). */
export const LINK_TOKEN_LENGTH = 32;
const generateToken = customAlphabet(
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-",
	LINK_TOKEN_LENGTH,
);

/** Tokens as issued; anything else is refused before a query. */
export const LINK_TOKEN_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export type InviteLinkRow = typeof inviteLinks.$inferSelect;

export async function insertInviteLink(
	db: Db,
	values: { sessionId: string; role: LinkRole; createdById: string },
): Promise<InviteLinkRow> {
	const [row] = await db
		.insert(inviteLinks)
		.values({ id: nanoid(), token: generateToken(), ...values })
		.returning();
	if (!row) throw new Error("insert returned no row");
	return row;
}

export async function listInviteLinks(db: Db, sessionId: string): Promise<InviteLinkRow[]> {
	return db.select().from(inviteLinks).where(eq(inviteLinks.sessionId, sessionId)).orderBy(asc(inviteLinks.createdAt));
}

/** Revoke a link (it joins nobody after this); returns whether the session had it. */
export async function deleteInviteLink(db: Db, sessionId: string, linkId: string): Promise<boolean> {
	const rows = await db
		.delete(inviteLinks)
		.where(and(eq(inviteLinks.sessionId, sessionId), eq(inviteLinks.id, linkId)))
		.returning({ id: inviteLinks.id });
	return rows.length > 0;
}

/** The live link with this token, or undefined (unknown, malformed or revoked). */
export async function findInviteLinkByToken(
	db: Db,
	token: string,
): Promise<(InviteLinkRow & { role: LinkRole }) | undefined> {
	if (!LINK_TOKEN_PATTERN.test(token)) return undefined;
	const rows = await db.select().from(inviteLinks).where(eq(inviteLinks.token, token));
	const row = rows[0];
	if (!row || !isRole(row.role) || (row.role !== "editor" && row.role !== "viewer")) return undefined;
	return { ...row, role: row.role };
}
