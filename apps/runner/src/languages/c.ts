import type { Language } from "./Language.ts";
import { findExecutable } from "./toolchain.ts";

export const c: Language = {
	id: "c",
	name: "C",
	sourceFile: "main.c",
	toolchain: () => findExecutable("/usr/bin/gcc"),
	versionProbe: () => ["/usr/bin/gcc", "-dumpfullversion"],
	compile: () => ({
		argv: ["/usr/bin/gcc", "-O2", "-std=gnu17", "-pipe", "-fmax-errors=20", "-o", "/box/prog", "main.c", "-lm"],
		artifact: "/box/prog",
	}),
	runArtifact: "/box/prog",
	run: () => ["/box/prog"],
};
