import { clearAuth, loadAuth } from "../auth/authStore.ts";

/** A failed REST call: the HTTP status and the server's `{"error":{"code","message"}}`. */
export class ApiError extends Error {
	readonly status: number;
	readonly code: string;

	constructor(status: number, code: string, message: string, options?: { cause?: unknown }) {
		super(message, options);
		this.name = "ApiError";
		this.status = status;
		this.code = code;
	}
}

/** Words for a failure the server did not describe (a proxy page, a dropped connection). */
function fallbackMessage(status: number): string {
	if (status === 0) return "Cannot reach the server. Check your connection and try again.";
	if (status === 401) return "Please log in again.";
	if (status === 403) return "You do not have access to this.";
	if (status === 404) return "Not found.";
	if (status === 429) return "Too many attempts; wait a moment and try again.";
	if (status >= 500) return "The server had a problem. Try again in a moment.";
	return `Request failed (${status}).`;
}

/**
 * Call the REST API on this origin; the httpOnly cookie set at sign-in authenticates it. Resolves
 * to the JSON answer; rejects with ApiError carrying the server's message. A 401 while signed in
 * forgets the stored profile (the token expired or was revoked).
 */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
	const auth = loadAuth();
	const headers: Record<string, string> = { accept: "application/json" };
	if (body !== undefined) headers["content-type"] = "application/json";
	let response: Response;
	try {
		response = await fetch(path, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			credentials: "same-origin",
		});
	} catch (e: unknown) {
		throw new ApiError(0, "network", fallbackMessage(0), { cause: e });
	}
	const text = await response.text();
	let json: unknown = null;
	try {
		json = text ? JSON.parse(text) : null;
	} catch {
		json = null;
	}
	if (!response.ok) {
		const error = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
		const code = typeof error?.code === "string" ? error.code : "http_error";
		const message = typeof error?.message === "string" ? error.message : fallbackMessage(response.status);
		if (response.status === 401 && auth) clearAuth();
		throw new ApiError(response.status, code, message);
	}
	return json as T;
}

/** The message to show a person for any thrown value. */
export function errorMessage(e: unknown): string {
	if (e instanceof ApiError) return e.message;
	if (e instanceof Error) return e.message;
	return String(e);
}
