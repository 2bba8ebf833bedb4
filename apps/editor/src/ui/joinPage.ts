import { ApiError, api, errorMessage } from "../api/apiClient.ts";
import { type Auth, type AuthUser, loadAuth, saveAuth } from "../auth/authStore.ts";
import { h, replaceChildren } from "./dom.ts";
import { appLink, navigate } from "./navigation.ts";
import { loginPath, sessionPath } from "./routes.ts";

/** POST /join's answer. */
interface JoinAnswer {
	readonly token: string;
	readonly user: AuthUser & { readonly guest?: boolean };
	readonly sessionId: string;
	readonly role: string;
}

async function join(token: string, name?: string): Promise<JoinAnswer> {
	return api<JoinAnswer>("POST", "/join", name === undefined ? { token } : { token, name });
}

function enter(answer: JoinAnswer): void {
	// The token arrives as the httpOnly cookie too; only the profile is kept (RELIABILITY 51).
	saveAuth({ user: answer.user } satisfies Auth);
	navigate(sessionPath(answer.sessionId), { replace: true });
}

function problem(root: HTMLElement, message: string): void {
	replaceChildren(
		root,
		h(
			"main",
			{ class: "problem-page" },
			h("h1", null, "Cannot join"),
			h("p", { role: "alert" }, message),
			appLink("/", "Go to Tandem"),
		),
	);
}

/**
 * `/join/{token}`: an invite link. Someone logged in joins with their account at once;
 * anyone else types the name the others will see ("Your name") and joins as a guest, or
 * logs in first.
 */
export async function renderJoinPage(root: HTMLElement, token: string): Promise<void> {
	const auth = loadAuth();
	if (auth) {
		replaceChildren(root, h("main", { class: "loading" }, h("p", { role: "status" }, "Joining…")));
		try {
			return enter(await join(token));
		} catch (e: unknown) {
			// A guest of another session is asked for a name like anyone without an account.
			if (!(e instanceof ApiError && (e.status === 400 || e.status === 401))) return problem(root, errorMessage(e));
		}
	}
	const name = h("input", { name: "name", autocomplete: "name", required: true, maxlength: 64 });
	const error = h("p", { class: "error", role: "alert" });
	const button = h("button", { type: "submit" }, "Join");
	const form = h(
		"form",
		{ class: "auth-form", novalidate: true },
		h("h1", null, "Join the session"),
		h("p", null, "Type the name the others in the session will see. No account needed."),
		h("label", { class: "field" }, h("span", null, "Your name"), name),
		error,
		button,
	);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		const value = name.value.trim();
		if (!value) {
			error.textContent = "Type your name first.";
			return;
		}
		error.textContent = "";
		button.disabled = true;
		try {
			enter(await join(token, value));
		} catch (e: unknown) {
			error.textContent = errorMessage(e);
		} finally {
			button.disabled = false;
		}
	});
	replaceChildren(
		root,
		h(
			"main",
			{ class: "auth-page" },
			h("p", { class: "brand" }, "Tandem"),
			form,
			h("p", null, "Have an account? ", appLink(loginPath(location.pathname), "Log in"), " and open the link again."),
		),
	);
	name.focus();
}
