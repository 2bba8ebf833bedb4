import type { HocuspocusProvider } from "@hocuspocus/provider";
import { api, errorMessage } from "../api/apiClient.ts";
import { h, replaceChildren } from "../ui/dom.ts";
import { renderMarkdownInto } from "./markdown.ts";
import "./interview.css";

/** Quiet time after the last keystroke before notes are saved (ms): a pause in typing, not each key. */
export const NOTES_SAVE_DEBOUNCE_MS = 800;

/** Largest notes text the server keeps (UTF-8 bytes; sync-server MAX_NOTES_BYTES). */
export const MAX_NOTES_BYTES = 64 * 1024;

interface NotesView {
	readonly text: string;
	readonly updatedAt: string | null;
}

/**
 * The private Notes tab of the owner and interviewers (decision 058): Markdown in a textarea with a
 * preview, saved by PUT /session/{id}/notes a moment after typing stops ("Saved" once the server has
 * it), and updated live when another interviewer saves (the server's `{"type":"notes"}` message, sent
 * to owner and interviewer connections only). Returns the cleanup for when the page closes.
 */
export function mountNotesPanel(slot: HTMLElement, sessionId: string, provider: HocuspocusProvider): () => void {
	const path = `/session/${encodeURIComponent(sessionId)}/notes`;
	const textarea = h("textarea", {
		id: "notes-text",
		rows: 8,
		spellcheck: true,
		disabled: true,
		"aria-label": "Private notes (Markdown)",
		placeholder: "Private notes: only the owner and interviewers see them. Markdown works.",
	});
	const preview = h("div", { class: "markdown notes-preview", "data-testid": "notes-preview" });
	const status = h("span", { class: "notes-status", role: "status", "data-testid": "notes-status" }, "Loading…");
	replaceChildren(
		slot,
		h("h2", null, "Notes ", h("small", null, "(private)")),
		h("label", { for: "notes-text", class: "visually-hidden" }, "Private notes"),
		textarea,
		status,
		h("h3", null, "Preview"),
		preview,
	);
	slot.hidden = false;

	let timer: ReturnType<typeof setTimeout> | undefined;
	let saving: Promise<void> = Promise.resolve();
	let dirty = false;
	let closed = false;
	const show = (text: string) => renderMarkdownInto(preview, text);

	const save = async () => {
		timer = undefined;
		const text = textarea.value;
		if (new TextEncoder().encode(text).byteLength > MAX_NOTES_BYTES) {
			status.textContent = `Not saved: notes hold at most ${MAX_NOTES_BYTES / 1024} KiB`;
			return;
		}
		status.textContent = "Saving…";
		try {
			await api<NotesView>("PUT", path, { text });
			if (textarea.value === text) {
				dirty = false;
				if (!closed) status.textContent = "Saved";
			}
		} catch (e: unknown) {
			if (!closed) status.textContent = `Not saved: ${errorMessage(e)}`;
		}
	};
	textarea.addEventListener("input", () => {
		dirty = true;
		show(textarea.value);
		status.textContent = "Editing…";
		if (timer !== undefined) clearTimeout(timer);
		timer = setTimeout(() => {
			saving = saving.then(save);
		}, NOTES_SAVE_DEBOUNCE_MS);
	});

	const onStateless = ({ payload }: { payload: string }) => {
		let message: unknown;
		try {
			message = JSON.parse(payload);
		} catch {
			return;
		}
		const m = message as { type?: unknown; text?: unknown };
		// Another interviewer's save; one's own unsaved typing wins until it is saved.
		if (m.type !== "notes" || typeof m.text !== "string" || dirty || m.text === textarea.value) return;
		textarea.value = m.text;
		show(m.text);
		status.textContent = "Saved";
	};
	provider.on("stateless", onStateless);

	api<NotesView>("GET", path).then(
		(notes) => {
			if (closed) return;
			if (!dirty) {
				textarea.value = notes.text;
				show(notes.text);
			}
			textarea.disabled = false;
			status.textContent = notes.updatedAt ? "Saved" : "";
		},
		(e: unknown) => {
			if (!closed) status.textContent = `Notes unavailable: ${errorMessage(e)}`;
		},
	);

	return () => {
		closed = true;
		provider.off("stateless", onStateless);
		// Typing not yet saved is saved on the way out.
		if (timer !== undefined) {
			clearTimeout(timer);
			void save();
		}
	};
}
