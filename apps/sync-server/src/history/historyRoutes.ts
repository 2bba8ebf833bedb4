import { codeText, readCode, readLanguage, setLanguage } from "@tandem/crdt-schema";
import type { FastifyInstance } from "fastify";
import * as Y from "yjs";
import { z } from "zod";
import { changeSessionDocument, readSessionDocument } from "../collab/documents.ts";
import { parseInput } from "../http/errors.ts";
import type { ServerContext } from "../server.ts";
import { MANAGER_ROLES } from "../sessions/roles.ts";
import { requireSessionRole } from "../sessions/sessionAccess.ts";
import { authorshipOf, clientOwners, listHistory, recordClients, recordEvent, stateAt } from "./historyRepository.ts";

const sessionParams = z.object({ sessionId: z.string().max(256) });
const eventParams = z.object({ sessionId: z.string().max(256), eventId: z.string().min(1).max(256) });
const restoreBody = z.object({ eventId: z.string().min(1, "eventId is required").max(256) });

/**
 * Make the document's code and language those of `point` as one new change (SPEC CS14): built in a
 * scratch Y.Doc with its own client id (recorded as the restoring user's, so authorship credits
 * them), then applied to the live document through a direct connection, so every editor sees it
 * and it is stored like any edit. Nothing before it is lost: it is a change on top of the log.
 */
async function restorePoint(
	ctx: ServerContext,
	sessionId: string,
	userId: string,
	point: { code: string; language: string },
): Promise<void> {
	const scratchClient = await changeSessionDocument(ctx.hocuspocus, sessionId, (doc) => {
		const scratch = new Y.Doc();
		try {
			Y.applyUpdate(scratch, Y.encodeStateAsUpdate(doc));
			const before = Y.encodeStateVector(scratch);
			scratch.transact(() => {
				const text = codeText(scratch);
				if (text.toString() !== point.code) {
					text.delete(0, text.length);
					text.insert(0, point.code);
				}
				if (readLanguage(scratch) !== point.language) setLanguage(scratch, point.language);
			});
			Y.applyUpdate(doc, Y.encodeStateAsUpdate(scratch, before));
			return scratch.clientID;
		} finally {
			scratch.destroy();
		}
	});
	await recordClients(ctx.db, sessionId, userId, [scratchClient]);
}

/**
 * GET /session/{id}/history, GET /session/{id}/history/{eventId}, POST /session/{id}/restore,
 * GET /session/{id}/authorship (CONTRACT "History"): the owner and interviewers only.
 */
export function registerHistoryRoutes(app: FastifyInstance, ctx: ServerContext): void {
	app.get("/session/:sessionId/history", async (request) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		await requireSessionRole(ctx, request, sessionId, MANAGER_ROLES);
		return { events: await listHistory(ctx.db, sessionId) };
	});

	app.get("/session/:sessionId/history/:eventId", async (request) => {
		const { sessionId, eventId } = parseInput(eventParams, request.params);
		await requireSessionRole(ctx, request, sessionId, MANAGER_ROLES);
		return stateAt(ctx.db, sessionId, eventId);
	});

	app.post("/session/:sessionId/restore", async (request) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		const { user } = await requireSessionRole(ctx, request, sessionId, MANAGER_ROLES);
		const { eventId } = parseInput(restoreBody, request.body);
		const point = await stateAt(ctx.db, sessionId, eventId);
		await restorePoint(ctx, sessionId, user.id, point);
		await recordEvent(ctx.db, sessionId, "restore", user.id, { eventId, restoredAt: point.at });
		return { eventId, code: point.code, language: point.language, at: point.at };
	});

	app.get("/session/:sessionId/authorship", async (request) => {
		const { sessionId } = parseInput(sessionParams, request.params);
		await requireSessionRole(ctx, request, sessionId, MANAGER_ROLES);
		const owners = await clientOwners(ctx.db, sessionId);
		// The code the ranges index, read from the same document so the two always agree.
		return readSessionDocument(ctx.hocuspocus, ctx.store, sessionId, (doc) => ({
			ranges: authorshipOf(doc, owners),
			code: readCode(doc),
		}));
	});
}
