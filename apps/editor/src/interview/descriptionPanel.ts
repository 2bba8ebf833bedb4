import { h, replaceChildren } from "../ui/dom.ts";
import { renderMarkdownInto } from "./markdown.ts";
import "./interview.css";

/**
 * The session's description (from the question it started from, GET /session `description`), shown to
 * every participant read-only in its own section. Nothing is shown when it is empty.
 */
export function mountDescription(slot: HTMLElement, description: string): void {
	if (!description.trim()) {
		slot.hidden = true;
		return;
	}
	const body = h("div", { class: "markdown", "data-testid": "description" });
	renderMarkdownInto(body, description);
	replaceChildren(slot, h("h2", null, "Description"), body);
	slot.hidden = false;
}
