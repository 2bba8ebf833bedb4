import { isLanguageId, LANGUAGES, readStdin } from "@tandem/crdt-schema";
import { MAX_CODE_BYTES, MAX_STDIN_BYTES } from "@tandem/run-queue";
import { viewSessionDocument } from "../collab/documents.ts";
import { ApiError } from "../http/errors.ts";
import type { ServerContext } from "../server.ts";
import type { SessionRow } from "../sessions/sessionRepository.ts";

/**
 * Route body limit for run routes: the largest code and stdin, with room for JSON escaping
 * (a control character becomes six bytes; most text stays one) and the other fields.
 */
export const RUN_BODY_LIMIT_BYTES = 2 * (MAX_CODE_BYTES + MAX_STDIN_BYTES) + 64 * 1024;

/** The code, language and stdin to run: the request's, else the session document's current ones. */
export async function resolveRunSource(
	ctx: ServerContext,
	session: Pick<SessionRow, "id" | "language" | "code">,
	body: { language?: string | undefined; code?: string | undefined; stdin?: string | undefined },
): Promise<{ language: string; code: string; stdin: string }> {
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
	checkSize("code", code, MAX_CODE_BYTES);
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
