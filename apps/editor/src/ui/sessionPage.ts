import { codeText, LANGUAGES, META, metaMap, readLanguage, readTitle, setLanguage } from "@tandem/crdt-schema";
import { ApiError, errorMessage } from "../api/apiClient.ts";
import type { Auth } from "../auth/authStore.ts";
import { decodeAccessMessage } from "../collab/accessMessage.ts";
import { createEditor } from "../editor/createEditor.ts";
import { isPendingSession } from "../storage/pendingSessions.ts";
import { cachedSessionRole, saveSessionRole } from "../storage/sessionListCache.ts";
import { h, replaceChildren } from "./dom.ts";
import { whenIdle } from "./idle.ts";
import { appLink, navigate } from "./navigation.ts";
import { presenceList } from "./presenceList.ts";
import { loginPath, sessionPath } from "./routes.ts";
import { isManagerRole, type SessionRole } from "./sessionPanels.ts";
import type { SessionStart, SessionView } from "./sessionStart.ts";
import { languageSelect } from "./sessionsPage.ts";
import { connectionBadge, syncBadge } from "./statusBadges.ts";

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
	return role === "owner" || role === "interviewer" || role === "editor" || role === "viewer" ? role : null;
}

/**
 * `/s/{id}`: the collaborative editor with presence, language, sharing and panel slots. The
 * editor shows the document as soon as its code is here; local and server content stream in.
 * Until the person's role is known (GET /session, or the copy stored for offline visits) the
 * editor stays read-only; sharing and the run, tests and call panels load after it.
 */
export async function renderSessionPage(
	root: HTMLElement,
	sessionId: string,
	auth: Auth,
	start: SessionStart,
): Promise<() => void> {
	const session = await start.session;
	const { doc, provider } = session;
	const meta = metaMap(doc);
	let view: SessionView | null = null;
	// The role stored by earlier visits (a session made here is this person's own), until GET answers.
	let role: SessionRole | null = isPendingSession(auth.user.id, sessionId)
		? "owner"
		: cachedSessionRole(auth.user.id, sessionId);
	let roleKnown = role !== null;
	let serverReadOnly = session.status().readOnly;
	let serverAccepted = session.status().authenticated;
	let ended = false;
	const accessListeners = new Set<() => void>();
	/** The language once the document or the server says it, or null (plain text meanwhile). */
	const knownLanguage = () => (meta.has(META.language) ? readLanguage(doc) : (view?.language ?? null));
	const currentTitle = () => readTitle(doc) || view?.title || "Untitled session";

	const title = h("h1", { class: "session-title" }, currentTitle());
	const connection = connectionBadge();
	const sync = syncBadge();
	const readOnlyBadge = h("span", { class: "badge read-only", hidden: true }, "read-only");
	const language = languageSelect(knownLanguage() ?? readLanguage(doc));
	const refused = h("p", { class: "error banner", role: "alert", hidden: true });
	// A local change refused for size (RELIABILITY 39): said in words until the next change goes through.
	const changeRefused = h("p", { class: "error banner", role: "alert", hidden: true, "data-notice": "size-limit" });
	const endedBanner = h(
		"p",
		{ class: "banner ended-banner", role: "status", hidden: true },
		"The interview has ended. The code is read-only and runs are off until an interviewer reopens it.",
	);
	const participantsSlot = h("div", { class: "participants-slot" });
	const editorHost = h("section", { class: "editor-pane", "aria-label": "Editor", "data-slot": "editor" });
	const share = h("span", { class: "share" });
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
				share,
			),
			refused,
			changeRefused,
			endedBanner,
			h(
				"div",
				{ class: "workspace" },
				editorHost,
				h(
					"aside",
					{ class: "side" },
					h(
						"section",
						{ class: "people", "aria-label": "People" },
						h("h2", null, "People"),
						presence?.element,
						participantsSlot,
					),
					slots.call,
				),
				slots.run,
				slots.tests,
			),
		),
	);

	// Viewers read, and whoever the server says reads; so does everyone until either the role is
	// known or the server has accepted them (its scope tells editors from viewers).
	const wantReadOnly = () =>
		serverReadOnly || role === "viewer" || (ended && role === "editor") || (!roleKnown && !serverAccepted);
	let isReadOnly = wantReadOnly();
	let shownLanguage = knownLanguage();
	const editor = createEditor({
		parent: editorHost,
		text: codeText(doc),
		awareness: provider.awareness,
		language: shownLanguage,
		readOnly: isReadOnly,
		onRefusedChange: (message) => {
			changeRefused.textContent = message;
			changeRefused.hidden = false;
		},
	});
	const clearRefusal = (_update: Uint8Array, origin: unknown) => {
		if (!changeRefused.hidden && origin !== provider) changeRefused.hidden = true;
	};
	doc.on("update", clearRefusal);
	const applyReadOnly = () => {
		isReadOnly = wantReadOnly();
		editor.setReadOnly(isReadOnly);
		readOnlyBadge.hidden = !(serverReadOnly || role === "viewer" || (ended && role === "editor"));
		language.disabled = isReadOnly;
		endedBanner.hidden = !ended;
	};
	const accessChanged = () => {
		applyReadOnly();
		for (const listener of accessListeners) listener();
	};
	// Role changes and the end of the interview arrive live from the server.
	const onAccessMessage = ({ payload }: { payload: string }) => {
		const access = decodeAccessMessage(payload);
		if (!access) return;
		role = access.role;
		ended = access.ended;
		accessChanged();
	};
	provider.on("stateless", onAccessMessage);
	applyReadOnly();

	language.addEventListener("change", () => {
		if (isReadOnly || !LANGUAGES.some((l) => l.id === language.value)) return;
		setLanguage(doc, language.value);
	});
	const onMeta = () => {
		const next = knownLanguage();
		language.value = next ?? readLanguage(doc);
		title.textContent = currentTitle();
		if (next !== null && next !== shownLanguage) {
			shownLanguage = next;
			void editor.setLanguage(next);
		}
	};
	meta.observe(onMeta);

	const stopStatus = session.onStatus((status) => {
		connection.set(status.connection);
		sync.set(status.sync);
		if (status.readOnly !== serverReadOnly || status.authenticated !== serverAccepted) {
			serverReadOnly = status.readOnly;
			serverAccepted = status.authenticated;
			applyReadOnly();
		}
		refused.hidden = status.refused === null;
		refused.textContent = status.refused ? `The server refused the connection: ${status.refused}` : "";
	});

	let closed = false;
	const cleanups: (() => void)[] = [];
	const close = () => {
		if (closed) return;
		closed = true;
		for (const cleanup of cleanups.reverse()) cleanup();
		stopStatus();
		doc.off("update", clearRefusal);
		provider.off("stateless", onAccessMessage);
		meta.unobserve(onMeta);
		presence?.destroy();
		editor.destroy();
		session.destroy();
	};

	// Sharing and the panels are not needed to read or type: their code loads once the role is
	// known and the editor has started.
	const mountExtras = async () => {
		const [{ shareDialog }, { SESSION_PANELS }, { mountParticipants }] = await Promise.all([
			import("./shareDialog.ts"),
			import("./sessionPanels.ts"),
			import("./participantsPanel.ts"),
		]);
		if (closed) return;
		share.replaceWith(shareDialog(sessionId, isManagerRole(role)));
		const onAccess = (listener: () => void) => {
			accessListeners.add(listener);
			return () => accessListeners.delete(listener);
		};
		const access = { ended: () => ended, onAccess, role: () => role };
		cleanups.push(mountParticipants(participantsSlot, { sessionId, session, user: auth.user, ...access }));
		for (const mount of SESSION_PANELS) {
			try {
				const cleanup = mount({
					sessionId,
					session,
					editor,
					user: auth.user,
					role,
					slots,
					ended: access.ended,
					currentRole: access.role,
					onAccess,
				});
				if (cleanup) cleanups.push(cleanup);
			} catch (e: unknown) {
				console.error("panel failed to mount", e);
			}
		}
	};
	const roleSettled = () => {
		roleKnown = true;
		applyReadOnly();
		whenIdle(() => mountExtras().catch((e: unknown) => console.error("session panels failed to load", e)), 1000);
	};

	start.view.then(
		(answer) => {
			if (closed) return;
			view = answer;
			role = roleOf(answer, auth.user.id);
			ended = Boolean(answer.endedAt);
			saveSessionRole(auth.user.id, sessionId, role);
			onMeta();
			roleSettled();
		},
		(e: unknown) => {
			if (closed) return;
			const status = e instanceof ApiError ? e.status : -1;
			// Unreachable server: keep the document open with the stored role; the provider connects when it can.
			if (status === 0) return roleSettled();
			close();
			if (status === 401) return navigate(loginPath(sessionPath(sessionId)), { replace: true });
			if (status === 404)
				return problemPage(root, "No such session", "This session does not exist. Check the link you were given.");
			if (status === 403)
				return problemPage(
					root,
					"Not a participant",
					"You are not a participant of this session. Ask its owner to invite you, then open the link again.",
				);
			problemPage(root, "Could not open the session", errorMessage(e));
		},
	);

	return close;
}
