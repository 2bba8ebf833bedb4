import type { Awareness } from "y-protocols/awareness";
import { shownState } from "../collab/presenceView.ts";
import { h } from "./dom.ts";

interface PresenceEntry {
	readonly clientId: number;
	readonly name: string;
	readonly color: string;
}

/** Awareness states that carry a well-formed `user`, this client first. */
export function presenceEntries(states: Map<number, Record<string, unknown>>, selfId: number): PresenceEntry[] {
	const out: PresenceEntry[] = [];
	for (const [clientId, state] of states) {
		// Only a validated name and a plain `#rrggbb` colour reach the page: the values come from other people.
		const user = shownState(state).user;
		if (!user) continue;
		out.push({ clientId, name: user.name, color: user.color });
	}
	return out.sort((a, b) => (a.clientId === selfId ? -1 : b.clientId === selfId ? 1 : a.name.localeCompare(b.name)));
}

/** "Who is here": one item per connected person with their colour dot; names as text. */
export function presenceList(awareness: Awareness): { element: HTMLElement; destroy(): void } {
	const list = h("ul", { class: "presence", "aria-label": "People here" });
	let shown = "";
	const render = () => {
		const entries = presenceEntries(awareness.getStates() as Map<number, Record<string, unknown>>, awareness.clientID);
		// Awareness changes with every cursor move; the list only when people come, go or rename.
		const key = JSON.stringify(entries);
		if (key === shown) return;
		shown = key;
		list.replaceChildren(
			...entries.map((entry) => {
				const dot = h("span", { class: "dot", "aria-hidden": "true" });
				dot.style.background = entry.color;
				const you = entry.clientId === awareness.clientID ? h("span", { class: "muted" }, " (you)") : null;
				return h("li", { "data-client": entry.clientId }, dot, h("span", { class: "name" }, entry.name), you);
			}),
		);
	};
	awareness.on("change", render);
	render();
	return { element: list, destroy: () => awareness.off("change", render) };
}
