import type { Language } from "./Language.ts";
import { findExecutable } from "./toolchain.ts";

export const cpp: Language = {
	id: "cpp",
	name: "C++",
	sourceFile: "main.cpp",
	toolchain: () => findExecutable("/usr/bin/g++"),
	versionProbe: () => ["/usr/bin/g++", "-dumpfullversion"],
	// -ftemplate-depth bounds template explosions on top of the compile box's limits.
	compile: () => ({
		argv: [
			"/usr/bin/g++",
			"-O2",
			"-std=gnu++17",
			"-pipe",
			"-fmax-errors=20",
			"-ftemplate-depth=900",
			"-o",
			"/box/prog",
			"main.cpp",
		],
		artifact: "/box/prog",
	}),
	runArtifact: "/box/prog",
	run: () => ["/box/prog"],
};
