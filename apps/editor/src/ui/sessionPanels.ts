import { mountCall } from "../call/mountCall.ts";
import type { OpenSession } from "../collab/openSession.ts";
import type { CodeEditor } from "../editor/createEditor.ts";
import { mountRunPanel } from "../run/mountRunPanel.ts";
import { mountTestsPanel } from "../tests/mountTestsPanel.ts";
import { h, replaceChildren } from "./dom.ts";

/** Containers on the session page that feature panels render into. */
export interface SessionSlots {
	/** Run button, stdin box and output panel (src/run/). */
	readonly run: HTMLElement;
	/** Test cases panel (src/tests/). */
	readonly tests: HTMLElement;
	/** Audio/video call strip (src/call/). */
	readonly call: HTMLElement;
	/** The History tab (src/history/): owner and interviewers only. */
	readonly history: HTMLElement;
}

export type SessionRole = "owner" | "interviewer" | "editor" | "viewer";

/** Owner and interviewers manage tests, participants, links and the end of the interview. */
export function isManagerRole(role: SessionRole | null): boolean {
	return role === "owner" || role === "interviewer";
}

export interface SessionPanelContext {
	readonly sessionId: string;
	readonly session: OpenSession;
	readonly editor: CodeEditor;
	readonly user: { readonly id: string; readonly username: string };
	/** Null when the role could not be fetched (offline); the server still enforces it. */
	readonly role: SessionRole | null;
	/** Whether the interview is ended now, and a way to hear when that or the role changes. */
	readonly ended: () => boolean;
	/** The role now (it changes live); `role` is the one the panel mounted with. */
	readonly currentRole: () => SessionRole | null;
	readonly onAccess: (listener: () => void) => () => void;
	readonly slots: SessionSlots;
}

/** Mount a panel; return a cleanup function for when the page closes. */
export type SessionPanel = (context: SessionPanelContext) => (() => void) | undefined;

function callPanel(context: SessionPanelContext): () => void {
	const call = mountCall(context.slots.call, {
		provider: context.session.provider,
		self: { id: context.user.id, name: context.user.username, color: context.session.self.color },
	});
	return () => call.destroy();
}

/** Roles that see the History tab (the server answers 403 to anyone else: CONTRACT "History"). */
const HISTORY_ROLES: readonly string[] = ["owner", "interviewer"];

/**
 * The History tab: a toggle button; its code (src/history/) loads on first open, so the page
 * does not pay for it until someone reviews.
 */
function historyPanel(context: SessionPanelContext): (() => void) | undefined {
	if (!context.role || !HISTORY_ROLES.includes(context.role)) return undefined;
	const body = h("div", { id: "history-body", hidden: true });
	const toggle = h("button", { type: "button", "aria-expanded": "false", "aria-controls": "history-body" }, "History");
	let cleanup: (() => void) | undefined;
	toggle.addEventListener("click", async () => {
		const open = body.hidden;
		body.hidden = !open;
		toggle.setAttribute("aria-expanded", String(open));
		if (open && !cleanup) {
			const { mountHistory } = await import("../history/historyPanel.ts");
			cleanup = mountHistory(body, context.sessionId);
		} else if (!open) {
			cleanup?.();
			cleanup = undefined;
		}
	});
	replaceChildren(context.slots.history, h("h2", null, toggle), body);
	context.slots.history.hidden = false;
	return () => cleanup?.();
}

/** The panels of the session page, in mount order. Add a feature's panel here. */
export const SESSION_PANELS: readonly SessionPanel[] = [mountRunPanel, mountTestsPanel, callPanel, historyPanel];
