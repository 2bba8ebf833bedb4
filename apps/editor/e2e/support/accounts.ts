import { randomBytes } from "node:crypto";
import type { BrowserContext, Page } from "playwright-core";

export interface TestAccount {
	readonly username: string;
	readonly email: string;
	readonly password: string;
}

export interface RegisteredAccount extends TestAccount {
	readonly id: string;
	readonly token: string;
}

/** A fresh, unique account (the password is long and uncommon so the server accepts it). */
export function newAccount(name: string): TestAccount {
	const username = `${name}${randomBytes(4).toString("hex")}`;
	return { username, email: `${username}@example.test`, password: `correct horse battery ${username}` };
}

/** Call the REST API; throws with the status and body on anything but 2xx. */
export async function api<T = Record<string, unknown>>(
	baseUrl: string,
	method: string,
	pathname: string,
	body?: unknown,
	token?: string,
): Promise<T> {
	const res = await fetch(baseUrl + pathname, {
		method,
		headers: {
			accept: "application/json",
			...(body === undefined ? {} : { "content-type": "application/json" }),
			...(token ? { authorization: `Bearer ${token}` } : {}),
		},
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	if (res.status >= 300) throw new Error(`${method} ${pathname}: ${res.status} ${text}`);
	return (text ? JSON.parse(text) : null) as T;
}

/** Register through the API (fast path for people a test does not need to sign up by hand). */
export async function registerAccount(baseUrl: string, name: string): Promise<RegisteredAccount> {
	const account = newAccount(name);
	const res = await api<{ token: string; user: { id: string } }>(baseUrl, "POST", "/register", account);
	return { ...account, id: res.user.id, token: res.token };
}

/** Sign up through the `/signup` page; resolves once the app has navigated away from it. */
export async function signUpThroughPage(page: Page, baseUrl: string, account: TestAccount): Promise<void> {
	await page.goto(`${baseUrl}/signup`);
	await page.getByLabel("Username").fill(account.username);
	await page.getByLabel("Email").fill(account.email);
	await page.getByLabel("Password").fill(account.password);
	await page.getByRole("button", { name: "Sign up" }).click();
	await page.waitForURL((url) => url.pathname !== "/signup");
}

/** Log in on the `/login` page the browser is on (or opens it); waits to leave it. */
export async function logInThroughPage(page: Page, baseUrl: string, account: TestAccount): Promise<void> {
	if (new URL(page.url()).pathname !== "/login") await page.goto(`${baseUrl}/login`);
	await page.getByLabel("Email or username").fill(account.username);
	await page.getByLabel("Password").fill(account.password);
	await page.getByRole("button", { name: "Log in" }).click();
	await page.waitForURL((url) => url.pathname !== "/login");
}

/**
 * Sign a page in as the app does after logging in: the token as the server's httpOnly cookie, the
 * profile in localStorage.
 */
export async function useAccountInPage(page: Page, baseUrl: string, account: RegisteredAccount): Promise<void> {
	await signInContext(page.context(), baseUrl, account);
	await page.goto(`${baseUrl}/login`);
	await page.evaluate(
		({ id, username, email }) => localStorage.setItem("tandem.auth", JSON.stringify({ user: { id, username, email } })),
		account,
	);
}

/** Give a browser context the sign-in cookie /login would set (name from the sync-server's TOKEN_COOKIE). */
export async function signInContext(
	context: BrowserContext,
	baseUrl: string,
	account: RegisteredAccount,
): Promise<void> {
	await context.addCookies([
		{ name: "tandem_token", value: account.token, url: baseUrl, httpOnly: true, sameSite: "Lax" },
	]);
}

/** Create a session through the API; returns its id. */
export async function createSession(
	baseUrl: string,
	token: string,
	body: { title?: string; language?: string; code?: string } = {},
): Promise<string> {
	return (await api<{ id: string }>(baseUrl, "POST", "/create-session", body, token)).id;
}

/** Invite a user to a session through the API (the caller must own it). */
export async function inviteUser(
	baseUrl: string,
	token: string,
	sessionId: string,
	username: string,
	role: "editor" | "viewer" = "editor",
): Promise<void> {
	await api(baseUrl, "POST", "/invite-user", { sessionId, username, role }, token);
}
