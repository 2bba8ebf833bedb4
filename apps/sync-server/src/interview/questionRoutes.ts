import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { ApiError, parseInput } from "../http/errors.ts";
import type { ServerContext } from "../server.ts";
import { decodeCursor, encodeCursor, SESSIONS_PAGE_DEFAULT, SESSIONS_PAGE_MAX } from "../sessions/sessionRoutes.ts";
import {
	checkQuestion,
	deleteOwnedQuestion,
	findOwnedQuestion,
	insertQuestion,
	listQuestionsOf,
	questionBody,
	questionJson,
	updateOwnedQuestion,
} from "./questions.ts";

const questionParams = z.object({ questionId: z.string().max(256) });
const listQuery = z.object({
	limit: z.coerce
		.number()
		.int()
		.min(1)
		.max(SESSIONS_PAGE_MAX, `limit must be 1-${SESSIONS_PAGE_MAX}`)
		.default(SESSIONS_PAGE_DEFAULT),
	cursor: z.string().max(200).optional(),
});

const NOT_FOUND = "Question not found";

/**
 * The question library (CONTRACT "Interviewer tools", decision 058): POST /questions, GET /questions
 * (the caller's, paged as GET /sessions), GET, PUT, DELETE /questions/{id}. Only a question's owner
 * reaches it; for anyone else it does not exist (404, never 403). POST /create-session {questionId}
 * starts a session from one (sessionRoutes).
 */
export function registerQuestionRoutes(app: FastifyInstance, ctx: ServerContext): void {
	app.post("/questions", async (request, reply) => {
		const user = await ctx.requireUser(request);
		const question = checkQuestion(parseInput(questionBody, request.body));
		const row = await insertQuestion(ctx.db, user.id, question);
		reply.status(201);
		return questionJson(row);
	});

	app.get("/questions", async (request) => {
		const user = await ctx.requireUser(request);
		const query = parseInput(listQuery, request.query);
		const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
		const rows = await listQuestionsOf(ctx.db, user.id, query.limit + 1, cursor);
		const page = rows.slice(0, query.limit);
		const last = page.at(-1);
		return {
			questions: page.map((r) => ({
				id: r.id,
				title: r.title,
				language: r.language,
				createdAt: r.createdAt.toISOString(),
				updatedAt: r.updatedAt.toISOString(),
			})),
			nextCursor: rows.length > query.limit && last ? encodeCursor({ updatedAt: last.cursorAt, id: last.id }) : null,
		};
	});

	app.get("/questions/:questionId", async (request) => {
		const user = await ctx.requireUser(request);
		const { questionId } = parseInput(questionParams, request.params);
		const row = await findOwnedQuestion(ctx.db, user.id, questionId);
		if (!row) throw new ApiError("not_found", NOT_FOUND);
		return questionJson(row);
	});

	app.put("/questions/:questionId", async (request) => {
		const user = await ctx.requireUser(request);
		const { questionId } = parseInput(questionParams, request.params);
		// Existence first: a stranger learns nothing, not even whether the body would pass.
		if (!(await findOwnedQuestion(ctx.db, user.id, questionId))) throw new ApiError("not_found", NOT_FOUND);
		const question = checkQuestion(parseInput(questionBody, request.body));
		const row = await updateOwnedQuestion(ctx.db, user.id, questionId, question);
		if (!row) throw new ApiError("not_found", NOT_FOUND);
		return questionJson(row);
	});

	app.delete("/questions/:questionId", async (request, reply) => {
		const user = await ctx.requireUser(request);
		const { questionId } = parseInput(questionParams, request.params);
		if (!(await deleteOwnedQuestion(ctx.db, user.id, questionId))) throw new ApiError("not_found", NOT_FOUND);
		reply.status(204);
		return null;
	});
}
