import { Compartment, type Extension } from "@codemirror/state";
import type { EditorView } from "@codemirror/view";
import { languagePack } from "./languagePacks.ts";

const compartment = new Compartment();
// The last language asked for per view, so a slow pack never overrides a later switch.
const requested = new WeakMap<EditorView, string>();

/** Syntax highlighting slot; starts plain until `switchSyntaxLanguage` loads a pack. */
export function syntaxLanguage(): Extension {
	return compartment.of([]);
}

/**
 * Highlight `view` as the session language `id`. Language packs load lazily (one chunk
 * per pack), so the first page load carries none of them.
 */
export async function switchSyntaxLanguage(view: EditorView, id: string): Promise<void> {
	requested.set(view, id);
	const load = languagePack(id);
	let support: Extension = [];
	if (load) {
		try {
			support = await load();
		} catch (e: unknown) {
			console.warn(`could not load highlighting for ${id}`, e);
		}
	}
	if (requested.get(view) !== id) return;
	view.dispatch({ effects: compartment.reconfigure(support) });
	view.dom.dataset.language = id;
}
