import { type LanguageSupport, StreamLanguage, LanguageSupport as Support } from "@codemirror/language";

/**
 * Highlighting for each session language, one lazily loaded chunk per pack. Only the parsers:
 * Tandem has no autocompletion, so the packs' completion sources (and @codemirror/autocomplete)
 * stay out, and no list of the 150 languages in @codemirror/language-data is shipped.
 */
const PACKS: Readonly<Record<string, () => Promise<LanguageSupport>>> = Object.freeze({
	python: () => import("@codemirror/lang-python").then((m) => new Support(m.pythonLanguage)),
	javascript: () => import("@codemirror/lang-javascript").then((m) => new Support(m.javascriptLanguage)),
	typescript: () => import("@codemirror/lang-javascript").then((m) => new Support(m.typescriptLanguage)),
	c: () => import("@codemirror/lang-cpp").then((m) => new Support(m.cppLanguage)),
	cpp: () => import("@codemirror/lang-cpp").then((m) => new Support(m.cppLanguage)),
	java: () => import("@codemirror/lang-java").then((m) => new Support(m.javaLanguage)),
	go: () => import("@codemirror/lang-go").then((m) => new Support(m.goLanguage)),
	rust: () => import("@codemirror/lang-rust").then((m) => new Support(m.rustLanguage)),
	php: () => import("@codemirror/lang-php").then((m) => m.php()),
	ruby: () => import("@codemirror/legacy-modes/mode/ruby").then((m) => new Support(StreamLanguage.define(m.ruby))),
	bash: () => import("@codemirror/legacy-modes/mode/shell").then((m) => new Support(StreamLanguage.define(m.shell))),
});

/** The loader of the highlighting for a session language, or null when there is none. */
export function languagePack(id: string): (() => Promise<LanguageSupport>) | null {
	return Object.hasOwn(PACKS, id) ? (PACKS[id] ?? null) : null;
}
