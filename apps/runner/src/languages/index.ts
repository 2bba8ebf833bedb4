import { execFile } from "node:child_process";
import { bash } from "./bash.ts";
import { c } from "./c.ts";
import { cpp } from "./cpp.ts";
import { go } from "./go.ts";
import { java } from "./java.ts";
import { javascript } from "./javascript.ts";
import type { Language } from "./Language.ts";
import { php } from "./php.ts";
import { python } from "./python.ts";
import { ruby } from "./ruby.ts";
import { rust } from "./rust.ts";
import { typescript } from "./typescript.ts";

export type { CompileStep, Language, ProgramEntry } from "./Language.ts";

/** Every language the runner knows, by id (ids from packages/crdt-schema LANGUAGES). */
export const LANGUAGE_TABLE: ReadonlyMap<string, Language> = new Map(
	[python, javascript, typescript, c, cpp, java, go, rust, ruby, php, bash].map((l) => [l.id, l]),
);

/** A language's table row, whether or not its toolchain is installed. */
export function getLanguage(id: string): Language | undefined {
	return LANGUAGE_TABLE.get(id);
}

export interface LanguageVersion {
	readonly id: string;
	readonly name: string;
	readonly version: string;
}

function probe(lang: Language): Promise<LanguageVersion | undefined> {
	if (!lang.toolchain()) return Promise.resolve(undefined);
	const [cmd, ...args] = lang.versionProbe();
	if (!cmd) return Promise.resolve(undefined);
	return new Promise((resolve) => {
		execFile(
			cmd,
			args,
			{ timeout: 15_000, encoding: "utf8", env: { PATH: "/usr/bin:/bin" } },
			(error, stdout, stderr) => {
				if (error) return resolve(undefined);
				const m = /(\d+\.\d+(?:\.\d+)?)/.exec(`${stdout}\n${stderr}`);
				resolve({ id: lang.id, name: lang.name, version: m?.[1] ?? "unknown" });
			},
		);
	});
}

let probed: Promise<LanguageVersion[]> | undefined;

/** Languages whose toolchain is present here, with versions; probed once and cached. */
export function listLanguages(): Promise<LanguageVersion[]> {
	probed ??= Promise.all([...LANGUAGE_TABLE.values()].map(probe)).then((all) =>
		all.filter((l): l is LanguageVersion => l !== undefined),
	);
	return probed;
}
