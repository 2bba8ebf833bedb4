/** Where a Java program starts: the file javac needs and the class the JVM runs (RELIABILITY 42). */
export interface JavaEntry {
	/** The source file name: the public top-level type's name (javac requires it), else the main class's. */
	readonly sourceFile: string;
	/** The class to run, qualified with the file's package when it declares one. */
	readonly mainClass: string;
}

/** The file and class when the source declares no top-level type at all: javac then reports the problem. */
const DEFAULT_CLASS = "Main";

/**
 * Blanks out comments, string and char literals and text blocks (keeping length and newlines), so
 * that `class` or `main` inside them is not taken for a declaration.
 */
function blankLiterals(src: string): string {
	let out = "";
	let i = 0;
	const blank = (s: string) => s.replace(/[^\n]/g, " ");
	while (i < src.length) {
		const rest = src.startsWith.bind(src);
		let end: number;
		if (rest("//", i)) {
			end = src.indexOf("\n", i);
			if (end < 0) end = src.length;
		} else if (rest("/*", i)) {
			end = src.indexOf("*/", i + 2);
			end = end < 0 ? src.length : end + 2;
		} else if (rest('"""', i)) {
			end = i + 3;
			while (end < src.length && !src.startsWith('"""', end)) end += src[end] === "\\" ? 2 : 1;
			end = Math.min(src.length, end + 3);
		} else if (src[i] === '"' || src[i] === "'") {
			const quote = src[i];
			end = i + 1;
			while (end < src.length && src[end] !== quote && src[end] !== "\n") end += src[end] === "\\" ? 2 : 1;
			end = Math.min(src.length, end + 1);
		} else {
			out += src[i];
			i++;
			continue;
		}
		out += blank(src.slice(i, end));
		i = end;
	}
	return out;
}

/** A type body with everything inside nested braces removed (method bodies, nested types, initialisers). */
function membersOnly(body: string): string {
	let depth = 0;
	let out = "";
	for (const ch of body) {
		if (ch === "{") depth++;
		if (depth === 0) out += ch;
		if (ch === "}") depth = Math.max(0, depth - 1);
	}
	return out;
}

const TOKEN =
	/[{}]|(?<![.\p{L}\p{N}_$])(class|interface|enum|record)\s+([\p{L}_$][\p{L}\p{N}_$]*)|\bpackage\s+([\p{L}_$][\p{L}\p{N}_$.]*)\s*;/gu;
const MAIN = /\bstatic\b[^;{}()=]*\bvoid\s+main\s*\(/u;

/**
 * Finds the top-level type that declares `static void main(` (the public one first, as javac and
 * judges expect) and the file name javac needs. Sources are pasted from judges that name the class
 * `Solution`, `Main`, or anything else, public or not; comments and strings are ignored.
 */
export function findJavaEntry(source: string): JavaEntry {
	const text = blankLiterals(source);
	let pkg: string | undefined;
	let depth = 0;
	const types: { name: string; isPublic: boolean; bodyStart: number; bodyEnd: number }[] = [];
	let pending: { name: string; isPublic: boolean } | undefined;
	let current: (typeof types)[number] | undefined;
	let lastBoundary = 0;
	for (const m of text.matchAll(TOKEN)) {
		const at = m.index ?? 0;
		if (m[0] === "{") {
			if (depth === 0 && pending) {
				current = { ...pending, bodyStart: at + 1, bodyEnd: text.length };
				types.push(current);
				pending = undefined;
			}
			depth++;
			lastBoundary = at + 1;
		} else if (m[0] === "}") {
			depth = Math.max(0, depth - 1);
			if (depth === 0 && current) {
				current.bodyEnd = at;
				current = undefined;
			}
			lastBoundary = at + 1;
		} else if (m[3] !== undefined) {
			if (depth === 0) pkg = m[3];
		} else if (depth === 0 && m[2] !== undefined && !pending) {
			const modifiers = text.slice(lastBoundary, at).split(";").at(-1) ?? "";
			pending = { name: m[2], isPublic: /\bpublic\b/.test(modifiers) };
		}
	}
	// Only the type's own members: method bodies and nested types are left out.
	const hasMain = (t: (typeof types)[number]) => MAIN.test(membersOnly(text.slice(t.bodyStart, t.bodyEnd)));
	const publicType = types.find((t) => t.isPublic);
	const mainType = (publicType && hasMain(publicType) ? publicType : undefined) ?? types.find(hasMain);
	// Without any main, the first type is run so that java names the real problem ("no main method in A").
	const mainName = mainType?.name ?? publicType?.name ?? types[0]?.name ?? DEFAULT_CLASS;
	return {
		sourceFile: `${publicType?.name ?? mainName}.java`,
		mainClass: pkg ? `${pkg}.${mainName}` : mainName,
	};
}
