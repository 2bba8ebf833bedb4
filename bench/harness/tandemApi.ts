import { randomBytes } from "node:crypto";

/** An account on a running Tandem server. */
export interface TandemAccount {
	readonly token: string;
	readonly userId: string;
	readonly username: string;
}

async function call<T>(baseUrl: string, method: string, route: string, body?: unknown, token?: string): Promise<T> {
	const headers: Record<string, string> = {};
	if (body !== undefined) headers["content-type"] = "application/json";
	if (token) headers.authorization = `Bearer ${token}`;
	const response = await fetch(`${baseUrl}${route}`, {
		method,
		headers,
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await response.text();
	if (!response.ok) throw new Error(`${method} ${route} answered ${response.status}: ${text}`);
	return JSON.parse(text) as T;
}

/** Register a fresh user (random name and a long random password) through POST /register. */
export async function registerUser(baseUrl: string, label = "bench"): Promise<TandemAccount> {
	const suffix = randomBytes(6).toString("hex");
	const username = `${label}_${suffix}`;
	const answer = await call<{ token: string; user: { id: string } }>(baseUrl, "POST", "/register", {
		username,
		email: `${username}@bench.example`,
		password: randomBytes(24).toString("base64url"),
	});
	return { token: answer.token, userId: answer.user.id, username };
}

/** Create a session through POST /create-session; returns its id. */
export async function createSession(baseUrl: string, token: string, title = "bench"): Promise<string> {
	const session = await call<{ id: string }>(baseUrl, "POST", "/create-session", { title, language: "python" }, token);
	return session.id;
}

/** GET /session/{id}: the REST view of a session. */
export function getSession(baseUrl: string, token: string, id: string): Promise<{ id: string; code: string }> {
	return call(baseUrl, "GET", `/session/${id}`, undefined, token);
}
