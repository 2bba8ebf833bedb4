import { eq } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Db } from "../db/database.ts";
import { sessionNotes } from "../db/schema.ts";
import { parseInput } from "../http/errors.ts";
import { checkSize } from "../runs/runSource.ts";
import { sendToSession } from "../runs/sessionBroadcast.ts";
import type { ServerContext } from "../server.ts";
import { isManager, MANAGER_ROLES } from "../sessions/roles.ts";
import { requireSessionRole } from "../sessions/sessionAccess.ts";

/**
 * Largest private notes text of one session (UTF-8 bytes): 64 KiB, about 30 pages of Markdown, far
 * above an interview's notes; past it PUT answers 413. It is the same bound as one test field
 * (crdt-schema MAX_TEST_FIELD_BYTES), and keeps every GET and broadcast small.
 */
export const MAX_NOTES_BYTES = 64 * 1024;

const sessionParams = z.object({ sessionId: z.string().max(256) });
const notesBody = z.object({ text: z.string({ message: "text must be a string" }) });

/** Notes as REST answers them; `updatedAt` is null until the first PUT. */
export interface NotesView {
	readonly text: string;
	readonly updatedAt: string | null;
}

async function readNotes(db: Db, sessionId: string): Promise<NotesView> {
	const rows = await db.select().from(sessionNotes).where(eq(sessionNotes.sessionId, sessionId));
	const row = rows[0];
	return { text: row?.text ?? "", updatedAt: row ? row.updatedAt.toISOString() : null };
}

async function writeNotes(db: Db, sessionId: string, text: string, userId: string): Promise<NotesView> {
	const updatedAt = new Date();
	const [row] = await db
		.insert(sessionNotes)
		.values({ sessionId, text, updatedById: userId, updatedAt })
		.onConflictDoUpdate({ target: sessionNotes.sessionId, set: { text, updatedById: userId, updatedAt } })
		.returning();
	return { text: row?.text ?? text, updatedAt: (row?.updatedAt ?? updatedAt).toISOString() };
}

/**
 * GET and PUT /session/{id}/notes (CONTRACT "Interviewer tools", decision 058): the private notes
 * of the owner and interviewers, 403 for every other participant. A PUT is told, as a stateless
 * `{"type":"notes","text","updatedAt","by"}` message, to this node's owner and interviewer
 * connections of the session only, so interviewers share notes live; nothing reaches editors or
 * viewers.
 */
export function registerNotesRoutes(app: FastifyInstance, ctx: ServerContext): void {
	app.get("/session/:sessionId/notes", async (request) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		await requireSessionRole(ctx, request, sessionId, MANAGER_ROLES);
		return readNotes(ctx.db, sessionId);
	});

	app.put("/session/:sessionId/notes", async (request) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		const { user } = await requireSessionRole(ctx, request, sessionId, MANAGER_ROLES);
		const { text } = parseInput(notesBody, request.body);
		checkSize("text", text, MAX_NOTES_BYTES);
		const view = await writeNotes(ctx.db, sessionId, text, user.id);
		const payload = JSON.stringify({ type: "notes", ...view, by: { id: user.id, username: user.username } });
		sendToSession(ctx.hocuspocus, sessionId, (_userId, role) => (isManager(role) ? payload : null));
		return view;
	});
}
