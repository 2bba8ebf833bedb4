import { LANGUAGES } from "@tandem/crdt-schema";
import { ApiError, api, errorMessage } from "../api/apiClient.ts";
import { type AuthUser, clearAuth } from "../auth/authStore.ts";
import { h, replaceChildren } from "./dom.ts";
import { appLink, navigate } from "./navigation.ts";
import { loginPath, sessionPath } from "./routes.ts";

interface SessionSummary {
	readonly id: string;
	readonly title: string;
	readonly language: string;
	readonly role: string;
	readonly createdAt: string;
}

/** A `<select>` of every session language, labelled "Language". */
export function languageSelect(value: string): HTMLSelectElement {
	const select = h("select", { name: "language" });
	for (const language of LANGUAGES) select.append(h("option", { value: language.id }, language.name));
	select.value = value;
	return select;
}

/** `/`: my sessions (newest first), "New session", "Log out". */
export function renderSessionsPage(root: HTMLElement, user: AuthUser): void {
	const list = h("ul", { class: "session-list", "aria-label": "My sessions" });
	const status = h("p", { class: "muted", role: "status" }, "Loading sessions…");
	const title = h("input", { name: "title", maxlength: 200, placeholder: "Untitled" });
	const language = languageSelect("python");
	const createError = h("p", { class: "error", role: "alert" });
	const create = h("button", { type: "submit" }, "New session");
	const form = h(
		"form",
		{ class: "new-session" },
		h("label", { class: "field" }, h("span", null, "Title"), title),
		h("label", { class: "field" }, h("span", null, "Language"), language),
		create,
		createError,
	);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		create.disabled = true;
		createError.textContent = "";
		try {
			const session = await api<{ id: string }>("POST", "/create-session", {
				title: title.value.trim() || undefined,
				language: language.value,
			});
			navigate(sessionPath(session.id));
		} catch (e: unknown) {
			if (e instanceof ApiError && e.status === 401) return navigate(loginPath("/"), { replace: true });
			createError.textContent = errorMessage(e);
			create.disabled = false;
		}
	});
	const logout = h("button", { type: "button", class: "secondary" }, "Log out");
	logout.addEventListener("click", async () => {
		// The server forgets its cookie; the stored token is dropped either way.
		await api("POST", "/logout").catch(() => {});
		clearAuth();
		navigate("/login", { replace: true });
	});

	replaceChildren(
		root,
		h(
			"main",
			{ class: "sessions-page" },
			h("header", { class: "topbar" }, h("span", { class: "brand" }, "Tandem"), h("span", null, user.username), logout),
			h("h1", null, "New session"),
			form,
			h("h2", null, "My sessions"),
			status,
			list,
		),
	);

	api<{ sessions: SessionSummary[] }>("GET", "/sessions")
		.then(({ sessions }) => {
			const sorted = [...sessions].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
			status.textContent = sorted.length === 0 ? "No sessions yet. Create one above." : "";
			list.replaceChildren(
				...sorted.map((s) => {
					const name = LANGUAGES.find((l) => l.id === s.language)?.name ?? s.language;
					return h(
						"li",
						null,
						appLink(sessionPath(s.id), s.title || "Untitled"),
						h("span", { class: "muted" }, ` ${name} · ${s.role} · ${new Date(s.createdAt).toLocaleString()}`),
					);
				}),
			);
		})
		.catch((e: unknown) => {
			// An expired or revoked token: the API client forgot it; log in again.
			if (e instanceof ApiError && e.status === 401) navigate(loginPath("/"), { replace: true });
			else status.textContent = errorMessage(e);
		});
}
