import type { FastifyError, FastifyInstance } from "fastify";
import { ZodError } from "zod";

/** Every error code the REST API answers with. */
export type ErrorCode =
	| "invalid_input"
	| "invalid_json"
	| "unauthorized"
	| "forbidden"
	| "not_found"
	| "conflict"
	| "payload_too_large"
	| "unsupported_media_type"
	| "rate_limited"
	| "unavailable"
	| "internal";

/** The one status per code (CONTRACT: REST errors). */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = Object.freeze({
	invalid_input: 400,
	invalid_json: 400,
	unauthorized: 401,
	forbidden: 403,
	not_found: 404,
	conflict: 409,
	payload_too_large: 413,
	unsupported_media_type: 415,
	rate_limited: 429,
	unavailable: 503,
	internal: 500,
});

/** The REST boundary's error type: a code mapped to a status in one place, and an optional cause. */
export class ApiError extends Error {
	override name = "ApiError";
	readonly code: ErrorCode;
	/** Extra response headers, e.g. Retry-After for rate limiting. */
	readonly headers: Readonly<Record<string, string>>;

	constructor(code: ErrorCode, message: string, options: { cause?: unknown; headers?: Record<string, string> } = {}) {
		super(message, { cause: options.cause });
		this.code = code;
		this.headers = options.headers ?? {};
	}

	get status(): number {
		return STATUS_BY_CODE[this.code];
	}
}

/** Turn a zod failure into one readable sentence naming the fields. */
export function describeZodError(error: ZodError): string {
	return error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}

// In `u` mode a surrogate pair is one code point, so this matches only unpaired surrogates.
const UNPAIRED_SURROGATE = /\p{Cs}/u;
// Deeper JSON than any body the API takes; past it the walk stops (zod refuses such bodies anyway).
const MAX_TEXT_CHECK_DEPTH = 32;

/**
 * The path of the first string in a parsed JSON value that holds an unpaired surrogate
 * (JSON's "\ud800" escape can carry one), or undefined. Such a string is not Unicode text:
 * UTF-8 (Postgres, the Yjs encoding) cannot hold it and would silently turn it into U+FFFD,
 * so the API refuses it (decision 042).
 */
export function unpairedSurrogatePath(value: unknown, path: string[] = [], depth = 0): string | undefined {
	if (typeof value === "string") return UNPAIRED_SURROGATE.test(value) ? path.join(".") || "body" : undefined;
	if (!value || typeof value !== "object" || depth >= MAX_TEXT_CHECK_DEPTH) return undefined;
	for (const [key, item] of Object.entries(value)) {
		const found = unpairedSurrogatePath(item, [...path, key], depth + 1);
		if (found !== undefined) return found;
	}
	return undefined;
}

/**
 * Parse a body/params with a zod schema, or throw a 400 ApiError with a clear message.
 * Strings that are not Unicode text (an unpaired surrogate) are refused here for every route.
 */
export function parseInput<T>(
	schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: ZodError } },
	value: unknown,
): T {
	const badText = unpairedSurrogatePath(value);
	if (badText !== undefined) {
		throw new ApiError(
			"invalid_input",
			`${badText}: must be valid Unicode text (it holds an unpaired surrogate, U+D800-U+DFFF, which no stored text can keep)`,
		);
	}
	const result = schema.safeParse(value ?? {});
	if (!result.success) throw new ApiError("invalid_input", describeZodError(result.error));
	return result.data;
}

const CODE_BY_FASTIFY_STATUS: Record<number, ErrorCode> = {
	400: "invalid_input",
	401: "unauthorized",
	403: "forbidden",
	404: "not_found",
	413: "payload_too_large",
	415: "unsupported_media_type",
	429: "rate_limited",
};

/** Map an unknown thrown value to (status, code, message) without ever leaking a stack. */
export function toErrorBody(error: unknown): {
	status: number;
	code: ErrorCode;
	message: string;
	headers: Record<string, string>;
} {
	if (error instanceof ApiError) {
		return { status: error.status, code: error.code, message: error.message, headers: { ...error.headers } };
	}
	if (error instanceof ZodError) {
		return { status: 400, code: "invalid_input", message: describeZodError(error), headers: {} };
	}
	if (isUnstorableText(error)) {
		// An id, a login or another plain-text key holding U+0000: no row can match it (RELIABILITY 37).
		return {
			status: 400,
			code: "invalid_input",
			message: "A value in this request holds U+0000 (NUL), which no id, name or key here can contain",
			headers: {},
		};
	}
	if (isDatabaseUnavailable(error)) {
		return {
			status: 503,
			code: "unavailable",
			message: "Service temporarily unavailable; try again shortly",
			headers: { "retry-after": "5" },
		};
	}
	const fe = (typeof error === "object" ? error : null) as Partial<FastifyError> | null;
	if (fe && typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
		if (fe.code === "FST_ERR_CTP_INVALID_JSON_BODY" || (error instanceof SyntaxError && fe.statusCode === 400)) {
			return { status: 400, code: "invalid_json", message: "Malformed JSON body", headers: {} };
		}
		if (fe.code === "FST_ERR_CTP_EMPTY_JSON_BODY") {
			return { status: 400, code: "invalid_json", message: "Empty JSON body", headers: {} };
		}
		const code = CODE_BY_FASTIFY_STATUS[fe.statusCode] ?? "invalid_input";
		const message = fe.statusCode === 413 ? "Request body is too large" : (fe.message ?? "Bad request");
		return { status: fe.statusCode, code, message, headers: {} };
	}
	return { status: 500, code: "internal", message: "Internal server error", headers: {} };
}

// Connection-level failures (not query errors): the database is down or restarting (RELIABILITY 34).
const UNAVAILABLE_CODES = new Set([
	"ECONNREFUSED",
	"ECONNRESET",
	"ETIMEDOUT",
	"EPIPE",
	"CONNECTION_CLOSED",
	"CONNECTION_ENDED",
	"CONNECTION_DESTROYED",
	"CONNECT_TIMEOUT",
	"57P01",
	"57P02",
	"57P03",
]);

/**
 * SQLSTATEs of text Postgres cannot hold: 22021 (U+0000 in a text value: "invalid byte sequence for
 * encoding UTF8: 0x00") and 22P05 (untranslatable character). Free-text columns escape U+0000
 * (storedText, decision 042); what still gets here is an id or key compared as it came.
 */
const UNSTORABLE_TEXT_CODES = new Set(["22021", "22P05"]);

/** Whether an error (or one of its causes) is Postgres refusing a text value it cannot hold. */
export function isUnstorableText(error: unknown): boolean {
	for (
		let e: unknown = error, depth = 0;
		e && typeof e === "object" && depth < 5;
		e = (e as { cause?: unknown }).cause, depth++
	) {
		const code = (e as { code?: unknown }).code;
		if (typeof code === "string" && UNSTORABLE_TEXT_CODES.has(code)) return true;
	}
	return false;
}

/** Whether an error (or one of its causes) says the database cannot be reached. */
export function isDatabaseUnavailable(error: unknown): boolean {
	for (
		let e: unknown = error, depth = 0;
		e && typeof e === "object" && depth < 5;
		e = (e as { cause?: unknown }).cause, depth++
	) {
		const code = (e as { code?: unknown }).code;
		if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || code.startsWith("08"))) return true;
	}
	return false;
}

/** Install the JSON error and not-found handlers: {"error":{"code","message"}}, never a stack. */
export function installErrorHandlers(app: FastifyInstance): void {
	app.setErrorHandler((error, request, reply) => {
		const body = toErrorBody(error);
		if (body.status >= 500) request.log.error({ err: error }, "request failed");
		reply
			.status(body.status)
			.headers(body.headers)
			.send({ error: { code: body.code, message: body.message } });
	});
}
