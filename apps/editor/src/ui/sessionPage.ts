import { codeText, LANGUAGES, META, metaMap, readLanguage, readTitle, setLanguage } from "@tandem/crdt-schema";
import { ApiError, api, errorMessage } from "../api/apiClient.ts";
import type { Auth } from "../auth/authStore.ts";
import { openSession } from "../collab/openSession.ts";
import { createEditor } from "../editor/createEditor.ts";
import { isPendingSession, registerPendingSession } from "../storage/pendingSessions.ts";
import { cachedSessionRole, saveSessionRole } from "../storage/sessionListCache.ts";
import { h, replaceChildren } from "./dom.ts";
import { appLink, navigate } from "./navigation.ts";
import { presenceList } from "./presenceList.ts";
import { loginPath, sessionPath } from "./routes.ts";
import { SESSION_PANELS, type SessionRole } from "./sessionPanels.ts";
import { languageSelect } from "./sessionsPage.ts";
import { shareDialog } from "./shareDialog.ts";
import { connectionBadge, syncBadge } from "./statusBadges.ts";

interface SessionView {
	readonly id: string;
	readonly ownerId: string;
	readonly title: string;
	readonly language: string;
	readonly participants: readonly { readonly userId: string; readonly role: string }[];
}

function problemPage(root: HTMLElement, heading: string, message: string): void {
	replaceChildren(
		root,
		h(
			"main",
			{ class: "problem-page" },
			h("h1", null, heading),
			h("p", { role: "alert" }, message),
			appLink("/", "Back to my sessions"),
		),
	);
}

function roleOf(view: SessionView, userId: string): SessionRole | null {
	if (view.ownerId === userId) return "owner";
	const role = view.participants.find((p) => p.userId === userId)?.role;
	return role === "owner" || role === "editor" || role === "viewer" ? role : null;
}

/** `/s/{id}`: the collaborative editor with presence, language, sharing and panel slots. */
export async function renderSessionPage(root: HTMLElement, sessionId: string, auth: Auth): Promise<() => void> {
	replaceChildren(root, h("main", { class: "loading" }, h("p", { role: "status" }, "Opening session…")));
	let view: SessionView | null = null;
	// Made offline on this device: the server learns of it first (or we stay offline).
	if (isPendingSession(auth.user.id, sessionId)) await registerPendingSession(auth.user.id, sessionId);
	try {
		view = await api<SessionView>("GET", `/session/${encodeURIComponent(sessionId)}`);
	} catch (e: unknown) {
		const status = e instanceof ApiError ? e.status : -1;
		if (status === 401) {
			navigate(loginPath(sessionPath(sessionId)), { replace: true });
			return () => {};
		}
		if (status === 404) {
			problemPage(root, "No such session", "This session does not exist. Check the link you were given.");
			return () => {};
		}
		if (status === 403) {
			problemPage(
				root,
				"Not a participant",
				"You are not a participant of this session. Ask its owner to invite you, then open the link again.",
			);
			return () => {};
		}
		// Unreachable server: open the document anyway; the provider connects when it can.
		if (status !== 0) {
			problemPage(root, "Could not open the session", errorMessage(e));
			return () => {};
		}
	}
	if (!root.isConnected) return () => {};

	// Offline: the role from the stored session list (a session made here is this person's own).
	const offlineRole = isPendingSession(auth.user.id, sessionId) ? "owner" : cachedSessionRole(auth.user.id, sessionId);
	const role = view ? roleOf(view, auth.user.id) : offlineRole;
	if (view) saveSessionRole(auth.user.id, sessionId, role);
	const session = openSession({ sessionId, token: auth.token, user: auth.user });
	await session.whenLocalLoaded;
	if (!root.isConnected) {
		session.destroy();
		return () => {};
	}
	const { doc, provider } = session;
	const meta = metaMap(doc);
	const currentLanguage = () => (meta.has(META.language) ? readLanguage(doc) : (view?.language ?? readLanguage(doc)));
	const currentTitle = () => readTitle(doc) || view?.title || "Untitled session";

	const title = h("h1", { class: "session-title" }, currentTitle());
	const connection = connectionBadge();
	const sync = syncBadge();
	const readOnlyBadge = h("span", { class: "badge read-only", hidden: true }, "read-only");
	const language = languageSelect(currentLanguage());
	const refused = h("p", { class: "error banner", role: "alert", hidden: true });
	const editorHost = h("section", { class: "editor-pane", "aria-label": "Editor", "data-slot": "editor" });
	const presence = provider.awareness ? presenceList(provider.awareness) : null;
	const slots = {
		run: h("section", { class: "slot run-slot", "data-slot": "run", "aria-label": "Run" }),
		tests: h("section", { class: "slot tests-slot", "data-slot": "tests", "aria-label": "Tests" }),
		call: h("section", { class: "slot call-slot", "data-slot": "call", "aria-label": "Call" }),
	};

	replaceChildren(
		root,
		h(
			"div",
			{ class: "session-page" },
			h(
				"header",
				{ class: "topbar" },
				appLink("/", "Sessions", "back"),
				title,
				h("span", { class: "status-group" }, connection.element, sync.element, readOnlyBadge),
				h("label", { class: "inline-field" }, h("span", null, "Language"), language),
				shareDialog(sessionId, role === "owner"),
			),
			refused,
			h(
				"div",
				{ class: "workspace" },
				editorHost,
				h(
					"aside",
					{ class: "side" },
					h("section", { class: "people", "aria-label": "People" }, h("h2", null, "People"), presence?.element),
					slots.call,
				),
				slots.run,
				slots.tests,
			),
		),
	);

	const viewerRole = role === "viewer";
	const editor = createEditor({
		parent: editorHost,
		text: codeText(doc),
		awareness: provider.awareness,
		language: currentLanguage(),
		readOnly: viewerRole,
	});

	let isReadOnly = viewerRole;
	const applyReadOnly = (next: boolean) => {
		isReadOnly = next;
		editor.setReadOnly(next);
		readOnlyBadge.hidden = !next;
		language.disabled = next;
	};
	applyReadOnly(viewerRole);

	language.addEventListener("change", () => {
		if (isReadOnly || !LANGUAGES.some((l) => l.id === language.value)) return;
		setLanguage(doc, language.value);
	});
	let shownLanguage = currentLanguage();
	const onMeta = () => {
		const next = currentLanguage();
		language.value = next;
		title.textContent = currentTitle();
		if (next !== shownLanguage) {
			shownLanguage = next;
			void editor.setLanguage(next);
		}
	};
	meta.observe(onMeta);

	const stopStatus = session.onStatus((status) => {
		connection.set(status.connection);
		sync.set(status.sync);
		if (status.readOnly !== isReadOnly && (status.readOnly || !viewerRole)) applyReadOnly(status.readOnly);
		refused.hidden = status.refused === null;
		refused.textContent = status.refused ? `The server refused the connection: ${status.refused}` : "";
	});

	const cleanups: (() => void)[] = [];
	for (const mount of SESSION_PANELS) {
		try {
			const cleanup = mount({ sessionId, session, editor, user: auth.user, role, slots });
			if (cleanup) cleanups.push(cleanup);
		} catch (e: unknown) {
			console.error("panel failed to mount", e);
		}
	}

	return () => {
		for (const cleanup of cleanups.reverse()) cleanup();
		stopStatus();
		meta.unobserve(onMeta);
		presence?.destroy();
		editor.destroy();
		session.destroy();
	};
}
