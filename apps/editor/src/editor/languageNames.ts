import { LanguageDescription } from "@codemirror/language";
import { languages } from "@codemirror/language-data";

/**
 * crdt-schema language ids whose @codemirror/language-data name differs from the id; the
 * rest match by name or alias (python → Python, go → Go, ...).
 */
const LANGUAGE_DATA_NAMES: Readonly<Record<string, string>> = Object.freeze({
	cpp: "C++",
	bash: "Shell",
	javascript: "JavaScript",
	typescript: "TypeScript",
});

/** The language-data entry that highlights a session language, or null when none does. */
export function languageDescriptionFor(id: string): LanguageDescription | null {
	const name = LANGUAGE_DATA_NAMES[id] ?? id;
	return LanguageDescription.matchLanguageName(languages, name, false);
}
