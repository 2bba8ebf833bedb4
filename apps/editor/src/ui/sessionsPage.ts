import { LANGUAGES } from "@tandem/crdt-schema";
import { ApiError, api, errorMessage } from "../api/apiClient.ts";
import { type AuthUser, clearAuth } from "../auth/authStore.ts";
import { createLocalSession, pendingSessions, pendingSummary, registerAllPending } from "../storage/pendingSessions.ts";
import { loadSessionList, type SessionSummary, saveSessionList } from "../storage/sessionListCache.ts";
import { changePasswordSection } from "./changePassword.ts";
import { h, replaceChildren } from "./dom.ts";
import { appLink, navigate } from "./navigation.ts";
import { loginPath, sessionPath } from "./routes.ts";

/** A `<select>` of every session language, labelled "Language". */
export function languageSelect(value: string): HTMLSelectElement {
	const select = h("select", { name: "language" });
	for (const language of LANGUAGES) select.append(h("option", { value: language.id }, language.name));
	select.value = value;
	return select;
}

/** An event of GET /events (the server's UserEvent). */
interface LiveEvent {
	readonly type: "session.created" | "session.invited";
	readonly by?: { readonly username: string };
	readonly session: { readonly id: string; readonly title: string; readonly language: string; readonly role: string };
}

/** Pages of GET /sessions the list follows; 10 pages of 200 is more sessions than a person reads. */
const MAX_SESSION_PAGES = 10;

/** Every page of GET /sessions (up to MAX_SESSION_PAGES), in the server's order. */
async function allSessions(): Promise<SessionSummary[]> {
	const rows: SessionSummary[] = [];
	let cursor: string | null = null;
	for (let page = 0; page < MAX_SESSION_PAGES; page++) {
		const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
		const answer = await api<{ sessions: SessionSummary[]; nextCursor?: string | null }>(
			"GET",
			`/sessions?limit=200${query}`,
		);
		rows.push(...answer.sessions);
		cursor = answer.nextCursor ?? null;
		if (cursor === null) break;
	}
	return rows;
}

/**
 * `/`: my sessions (newest first), "New session", "Log out", "Account" (change password).
 * While shown, GET /events adds sessions created elsewhere and invitations live. Returns the
 * page's cleanup (closes the event stream).
 */
export function renderSessionsPage(root: HTMLElement, user: AuthUser): () => void {
	const list = h("ul", { class: "session-list", "aria-label": "My sessions" });
	const status = h("p", { class: "muted", role: "status" }, "Loading sessions…");
	const notice = h("p", { class: "notice", role: "status", "aria-live": "polite" });
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
		const input = { title: title.value.trim(), language: language.value };
		try {
			// Offline: made on this device and registered with the server on reconnect.
			if (!navigator.onLine) return navigate(sessionPath((await createLocalSession(user.id, input)).id));
			const session = await api<{ id: string }>("POST", "/create-session", {
				title: input.title || undefined,
				language: input.language,
			});
			navigate(sessionPath(session.id));
		} catch (e: unknown) {
			if (e instanceof ApiError && e.status === 401) return navigate(loginPath("/"), { replace: true });
			if (e instanceof ApiError && e.status === 0) {
				const local = await createLocalSession(user.id, input).catch(() => null);
				if (local) return navigate(sessionPath(local.id));
			}
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
			notice,
			status,
			list,
			changePasswordSection(),
		),
	);

	// Sessions announced by GET /events; the server's list (GET /sessions) stays the truth on reload.
	const live: SessionSummary[] = [];
	let lastList: { sessions: readonly SessionSummary[]; offline: boolean } | null = null;
	const show = (sessions: readonly SessionSummary[], offline: boolean) => {
		lastList = { sessions, offline };
		const pending = pendingSessions(user.id);
		const known = [...sessions, ...live.filter((l) => !sessions.some((s) => s.id === l.id))];
		const rows = [...pending.map(pendingSummary), ...known.filter((s) => !pending.some((p) => p.id === s.id))];
		const sorted = rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
		status.textContent = offline
			? "Offline: showing the sessions saved on this device."
			: sorted.length === 0
				? "No sessions yet. Create one above."
				: "";
		list.replaceChildren(
			...sorted.map((s) => {
				const name = LANGUAGES.find((l) => l.id === s.language)?.name ?? s.language;
				const notOnServer = pending.some((p) => p.id === s.id);
				return h(
					"li",
					null,
					appLink(sessionPath(s.id), s.title || "Untitled"),
					h("span", { class: "muted" }, ` ${name} · ${s.role} · ${new Date(s.createdAt).toLocaleString()}`),
					notOnServer ? h("span", { class: "badge pending" }, "not yet on server") : null,
				);
			}),
		);
	};

	const events = typeof EventSource === "function" ? new EventSource("/events") : null;
	const onLive = (message: MessageEvent<string>) => {
		let event: LiveEvent;
		try {
			event = JSON.parse(message.data) as LiveEvent;
		} catch {
			return;
		}
		const { id, title, language, role } = event.session;
		if (!live.some((l) => l.id === id)) live.push({ id, title, language, role, createdAt: new Date().toISOString() });
		if (event.type === "session.invited") {
			notice.replaceChildren(
				`${event.by?.username ?? "Someone"} invited you to “${title || "Untitled"}” as ${role} `,
				appLink(sessionPath(id), "Open"),
			);
		}
		if (lastList) show(lastList.sessions, lastList.offline);
	};
	events?.addEventListener("session.created", onLive);
	events?.addEventListener("session.invited", onLive);

	registerAllPending(user.id)
		.then(() => allSessions())
		.then((sessions) => {
			saveSessionList(user.id, sessions);
			show(sessions, false);
		})
		.catch((e: unknown) => {
			// An expired or revoked token: the API client forgot it; log in again.
			if (e instanceof ApiError && e.status === 401) return navigate(loginPath("/"), { replace: true });
			if (e instanceof ApiError && e.status === 0) return show(loadSessionList(user.id) ?? [], true);
			status.textContent = errorMessage(e);
		});
	return () => events?.close();
}
