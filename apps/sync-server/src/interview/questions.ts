import {
	addTest,
	encodeDocument,
	isLanguageId,
	LANGUAGES,
	MAX_CODE_CHARS,
	MAX_DOCUMENT_BYTES,
	MAX_HIDDEN_TESTS_BYTES,
	MAX_TEST_FIELD_BYTES,
	MAX_TEST_NAME_CHARS,
	MAX_TESTS_PER_SESSION,
	MAX_TITLE_CHARS,
	normalizeLineEndings,
	SERVER_ORIGIN,
	seedDocument,
	utf8Length,
} from "@tandem/crdt-schema";
import { and, desc, eq, sql } from "drizzle-orm";
import { nanoid } from "nanoid";
import * as Y from "yjs";
import { z } from "zod";
import type { Db } from "../db/database.ts";
import { type QuestionTest, questions } from "../db/schema.ts";
import { ApiError } from "../http/errors.ts";
import { checkSize } from "../runs/runSource.ts";
import type { SessionCursor } from "../sessions/sessionRepository.ts";

/**
 * Largest question (and session) description, Markdown (UTF-8 bytes): 64 KiB, as much as one test
 * field (crdt-schema MAX_TEST_FIELD_BYTES); a problem statement is a page or two.
 */
export const MAX_DESCRIPTION_BYTES = 64 * 1024;

export type QuestionRow = typeof questions.$inferSelect;

/** What POST and PUT /questions take; sizes are checked after parsing by checkQuestionSizes. */
export const questionBody = z.object({
	title: z
		.string({ message: "title is required" })
		.trim()
		.min(1, "title is required")
		.max(MAX_TITLE_CHARS, `title must be at most ${MAX_TITLE_CHARS} characters`),
	language: z.string({ message: "language is required" }).refine(isLanguageId, {
		message: `language must be one of: ${LANGUAGES.map((l) => l.id).join(", ")}`,
	}),
	code: z.string({ message: "code must be a string" }),
	description: z.string().default(""),
	tests: z
		.array(
			z.object({
				name: z.string().max(MAX_TEST_NAME_CHARS, `name must be at most ${MAX_TEST_NAME_CHARS} characters`),
				stdin: z.string(),
				expected: z.string(),
				hidden: z.boolean().default(false),
			}),
		)
		.default([]),
});

export type QuestionInput = z.infer<typeof questionBody>;

/** Bytes a test takes where it is kept (as the test routes count them). */
function testBytes(test: QuestionTest): number {
	return 64 + utf8Length(test.name) + utf8Length(test.stdin) + utf8Length(test.expected);
}

/**
 * The document and hidden tests a session started from `question` gets: code, language, title and the
 * visible tests in the document (seeded once, SPEC CS4), hidden tests for hidden_tests only.
 */
export function seedFromQuestion(question: {
	title: string;
	language: string;
	code: string;
	tests: readonly QuestionTest[];
}): { state: Uint8Array; hidden: QuestionTest[] } {
	const doc = new Y.Doc();
	try {
		seedDocument(doc, { code: question.code, language: question.language, title: question.title });
		for (const t of question.tests) {
			if (!t.hidden) addTest(doc, { id: nanoid(), name: t.name, stdin: t.stdin, expected: t.expected }, SERVER_ORIGIN);
		}
		return { state: encodeDocument(doc), hidden: question.tests.filter((t) => t.hidden) };
	} finally {
		doc.destroy();
	}
}

/**
 * 413 with the limit in words when a question could not start a session: the session limits of
 * crdt-schema (code, tests per session, test fields, hidden tests' bytes, the seeded document's
 * bytes) and MAX_DESCRIPTION_BYTES. Returns the question with code in one line-ending convention.
 */
export function checkQuestion(input: QuestionInput): QuestionInput {
	const code = normalizeLineEndings(input.code);
	if (code.length > MAX_CODE_CHARS) {
		throw new ApiError(
			"payload_too_large",
			`code is ${code.length} characters; the limit is ${MAX_CODE_CHARS} characters (256 Ki)`,
		);
	}
	checkSize("description", input.description, MAX_DESCRIPTION_BYTES);
	if (input.tests.length > MAX_TESTS_PER_SESSION) {
		throw new ApiError(
			"payload_too_large",
			`The question has ${input.tests.length} tests; a session holds at most ${MAX_TESTS_PER_SESSION}`,
		);
	}
	let hiddenBytes = 0;
	input.tests.forEach((t, i) => {
		checkSize(`tests.${i}.stdin`, t.stdin, MAX_TEST_FIELD_BYTES);
		checkSize(`tests.${i}.expected`, t.expected, MAX_TEST_FIELD_BYTES);
		if (t.hidden) hiddenBytes += testBytes(t);
	});
	if (hiddenBytes > MAX_HIDDEN_TESTS_BYTES) {
		throw new ApiError(
			"payload_too_large",
			`Hidden tests take ${hiddenBytes} bytes; a session holds at most ${MAX_HIDDEN_TESTS_BYTES} bytes (1 MiB) of hidden tests`,
		);
	}
	const question = { ...input, code };
	const bytes = seedFromQuestion(question).state.byteLength;
	if (bytes > MAX_DOCUMENT_BYTES) {
		throw new ApiError(
			"payload_too_large",
			`The session document would be ${bytes} bytes; a document holds at most ${MAX_DOCUMENT_BYTES} bytes (1 MiB)`,
		);
	}
	return question;
}

export async function insertQuestion(db: Db, ownerId: string, q: QuestionInput): Promise<QuestionRow> {
	const [row] = await db
		.insert(questions)
		.values({ id: nanoid(24), ownerId, ...q })
		.returning();
	if (!row) throw new Error("insert returned no row");
	return row;
}

/** The question when `ownerId` owns it; undefined otherwise (callers answer 404 either way). */
export async function findOwnedQuestion(db: Db, ownerId: string, id: string): Promise<QuestionRow | undefined> {
	const rows = await db
		.select()
		.from(questions)
		.where(and(eq(questions.id, id), eq(questions.ownerId, ownerId)));
	return rows[0];
}

export async function updateOwnedQuestion(
	db: Db,
	ownerId: string,
	id: string,
	q: QuestionInput,
): Promise<QuestionRow | undefined> {
	const [row] = await db
		.update(questions)
		.set({ ...q, updatedAt: new Date() })
		.where(and(eq(questions.id, id), eq(questions.ownerId, ownerId)))
		.returning();
	return row;
}

export async function deleteOwnedQuestion(db: Db, ownerId: string, id: string): Promise<boolean> {
	const rows = await db
		.delete(questions)
		.where(and(eq(questions.id, id), eq(questions.ownerId, ownerId)))
		.returning({ id: questions.id });
	return rows.length > 0;
}

/** One page of the owner's questions, most recently updated first (ties by id), after `cursor`. */
export async function listQuestionsOf(db: Db, ownerId: string, limit: number, cursor?: SessionCursor) {
	const mine = eq(questions.ownerId, ownerId);
	return db
		.select({
			id: questions.id,
			title: questions.title,
			language: questions.language,
			createdAt: questions.createdAt,
			updatedAt: questions.updatedAt,
			cursorAt: sql<string>`${questions.updatedAt}::text`,
		})
		.from(questions)
		.where(
			cursor
				? and(mine, sql`(${questions.updatedAt}, ${questions.id}) < (${cursor.updatedAt}::timestamptz, ${cursor.id})`)
				: mine,
		)
		.orderBy(desc(questions.updatedAt), desc(questions.id))
		.limit(limit);
}

/** A question as REST shows it to its owner. */
export function questionJson(row: QuestionRow) {
	return {
		id: row.id,
		title: row.title,
		language: row.language,
		code: row.code,
		description: row.description,
		tests: row.tests,
		createdAt: row.createdAt.toISOString(),
		updatedAt: row.updatedAt.toISOString(),
	};
}
