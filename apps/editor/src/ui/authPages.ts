import { api, errorMessage } from "../api/apiClient.ts";
import { type Auth, saveAuth } from "../auth/authStore.ts";
import { h, replaceChildren } from "./dom.ts";
import { appLink, navigate } from "./navigation.ts";
import { safeNext } from "./routes.ts";

function field(label: string, input: HTMLInputElement): HTMLLabelElement {
	return h("label", { class: "field" }, h("span", null, label), input);
}

function nextPath(): string {
	return safeNext(new URLSearchParams(location.search).get("next"));
}

function authForm(
	root: HTMLElement,
	heading: string,
	fields: HTMLLabelElement[],
	submitText: string,
	footer: Node,
	submit: () => Promise<Auth>,
): void {
	const error = h("p", { class: "error", role: "alert" });
	const button = h("button", { type: "submit" }, submitText);
	const form = h("form", { class: "auth-form", novalidate: true }, h("h1", null, heading), ...fields, error, button);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		error.textContent = "";
		button.disabled = true;
		try {
			saveAuth(await submit());
			navigate(nextPath(), { replace: true });
		} catch (e: unknown) {
			error.textContent = errorMessage(e);
		} finally {
			button.disabled = false;
		}
	});
	replaceChildren(root, h("main", { class: "auth-page" }, h("p", { class: "brand" }, "Tandem"), form, footer));
	fields[0]?.querySelector("input")?.focus();
}

/** `/login`: email or username and password; goes back to `?next=` afterwards. */
export function renderLoginPage(root: HTMLElement): void {
	const login = h("input", { name: "login", autocomplete: "username", required: true });
	const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
	const signup = appLink(`/signup${location.search}`, "Sign up");
	authForm(
		root,
		"Log in",
		[field("Email or username", login), field("Password", password)],
		"Log in",
		h("p", null, "New here? ", signup),
		() => {
			const value = login.value.trim();
			const body = value.includes("@") ? { email: value } : { username: value };
			return api<Auth>("POST", "/login", { ...body, password: password.value });
		},
	);
}

/** `/signup`: username, email and password. */
export function renderSignupPage(root: HTMLElement): void {
	const username = h("input", { name: "username", autocomplete: "username", required: true });
	const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true });
	const password = h("input", { name: "password", type: "password", autocomplete: "new-password", required: true });
	const login = appLink(`/login${location.search}`, "Log in");
	authForm(
		root,
		"Sign up",
		[field("Username", username), field("Email", email), field("Password", password)],
		"Sign up",
		h("p", null, "Have an account? ", login),
		() =>
			api<Auth>("POST", "/register", {
				username: username.value.trim(),
				email: email.value.trim(),
				password: password.value,
			}),
	);
}
