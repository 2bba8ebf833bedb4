/** A language a session can be written in. `id` is the CONTRACT id used everywhere. */
export interface LanguageInfo {
	readonly id: string;
	readonly name: string;
	/** File extension, used for syntax highlighting lookups and source file names. */
	readonly extension: string;
}

/** Every language the product knows. The runner reports which ones have a toolchain. */
export const LANGUAGES: readonly LanguageInfo[] = Object.freeze([
	{ id: "python", name: "Python", extension: "py" },
	{ id: "javascript", name: "JavaScript", extension: "js" },
	{ id: "typescript", name: "TypeScript", extension: "ts" },
	{ id: "c", name: "C", extension: "c" },
	{ id: "cpp", name: "C++", extension: "cpp" },
	{ id: "java", name: "Java", extension: "java" },
	{ id: "go", name: "Go", extension: "go" },
	{ id: "rust", name: "Rust", extension: "rs" },
	{ id: "ruby", name: "Ruby", extension: "rb" },
	{ id: "php", name: "PHP", extension: "php" },
	{ id: "bash", name: "Bash", extension: "sh" },
]);

export type LanguageId = string;

export const DEFAULT_LANGUAGE = "python";

const byId = new Map(LANGUAGES.map((l) => [l.id, l]));

export function isLanguageId(id: unknown): id is LanguageId {
	return typeof id === "string" && byId.has(id);
}

export function languageInfo(id: string): LanguageInfo | undefined {
	return byId.get(id);
}
