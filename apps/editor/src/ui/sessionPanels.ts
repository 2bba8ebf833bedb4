import { mountCall } from "../call/mountCall.ts";
import type { OpenSession } from "../collab/openSession.ts";
import type { CodeEditor } from "../editor/createEditor.ts";
import { mountRunPanel } from "../run/mountRunPanel.ts";
import { mountTestsPanel } from "../tests/mountTestsPanel.ts";

/** Containers on the session page that feature panels render into. */
export interface SessionSlots {
	/** Run button, stdin box and output panel (src/run/). */
	readonly run: HTMLElement;
	/** Test cases panel (src/tests/). */
	readonly tests: HTMLElement;
	/** Audio/video call strip (src/call/). */
	readonly call: HTMLElement;
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

/** The panels of the session page, in mount order. Add a feature's panel here. */
export const SESSION_PANELS: readonly SessionPanel[] = [mountRunPanel, mountTestsPanel, callPanel];
