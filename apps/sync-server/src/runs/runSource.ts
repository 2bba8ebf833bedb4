import { isLanguageId, LANGUAGES, MAX_CODE_CHARS, readStdin } from "@tandem/crdt-schema";
import { MAX_STDIN_BYTES } from "@tandem/run-queue";
import { viewSessionDocument } from "../collab/documents.ts";
import { stateAt } from "../history/historyRepository.ts";
import { ApiError } from "../http/errors.ts";
import type { ServerContext } from "../server.ts";
import { isManager } from "../sessions/roles.ts";
import type { SessionRow } from "../sessions/sessionRepository.ts";

/**
 * Route body limit for run routes: the largest code and stdin, with room for JSON escaping
 * (a control character becomes six bytes; most text stays one) and the other fields.
 */
export const RUN_BODY_LIMIT_BYTES = 2 * (3 * MAX_CODE_CHARS + MAX_STDIN_BYTES) + 64 * 1024;

/**
 * The code, language and stdin to run: the request's, else (with `at`, an event id of GET
 * /session/{id}/history) the document as it was at that event, else the document's current ones.
 * `at` is for the owner and interviewers only (403 for `role` otherwise), and excludes `code`.
 */
export async function resolveRunSource(
	ctx: ServerContext,
	session: Pick<SessionRow, "id" | "language" | "code">,
	body: {
		language?: string | undefined;
		code?: string | undefined;
		stdin?: string | undefined;
		at?: string | undefined;
	},
	role?: string | null,
): Promise<{ language: string; code: string; stdin: string }> {
	if (body.at !== undefined) {
		if (body.code !== undefined) throw new ApiError("invalid_input", "Give either code or at, not both");
		if (!isManager(role)) {
			throw new ApiError("forbidden", "Only the owner and interviewers may run an earlier version (at)");
		}
		const point = await stateAt(ctx.db, session.id, body.at);
		return resolveRunSource(ctx, session, {
			language: body.language ?? point.language,
			code: point.code,
			stdin: body.stdin,
		});
	}
	if (body.language !== undefined && !isLanguageId(body.language)) {
		throw new ApiError(
			"invalid_input",
			`Unknown language "${String(body.language).slice(0, 40)}"; use one of: ${LANGUAGES.map((l) => l.id).join(", ")}`,
		);
	}
	const needDocument = body.language === undefined || body.code === undefined || body.stdin === undefined;
	const view = needDocument ? await viewSessionDocument(ctx.hocuspocus, ctx.store, session.id) : null;
	const language = body.language ?? view?.language ?? session.language;
	const code = body.code ?? view?.code ?? session.code;
	if (!isLanguageId(language)) throw new ApiError("invalid_input", `The session's language "${language}" is unknown`);
	// The same unit and limit as the document (SPEC CS8): code a session can hold, it can run.
	if (code.length > MAX_CODE_CHARS) {
		throw new ApiError(
			"payload_too_large",
			`code is ${code.length} characters; the limit is ${MAX_CODE_CHARS} characters (the session's code limit)`,
		);
	}
	return { language, code, stdin: body.stdin ?? view?.stdin ?? "" };
}

/** 413 with the limit in words when `text` is larger than `maxBytes` in UTF-8. */
export function checkSize(field: string, text: string, maxBytes: number): void {
	const bytes = Buffer.byteLength(text, "utf8");
	if (bytes > maxBytes) {
		throw new ApiError(
			"payload_too_large",
			`${field} is ${bytes} bytes; the limit is ${maxBytes} bytes (${Math.round(maxBytes / 1024)} KiB)`,
		);
	}
}

export { MAX_STDIN_BYTES };
