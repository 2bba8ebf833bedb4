import path from "node:path";
import type { Language } from "./Language.ts";
import { findExecutable } from "./toolchain.ts";

/** GOROOT from the real path of /usr/bin/go (…/go-1.19/bin/go). */
function goRoot(): string | undefined {
	const go = findExecutable("/usr/bin/go");
	return go ? path.dirname(path.dirname(go)) : undefined;
}

export const go: Language = {
	id: "go",
	name: "Go",
	sourceFile: "main.go",
	toolchain: () => findExecutable("/usr/bin/go"),
	versionProbe: () => ["/usr/bin/go", "version"],
	// `go build` with an empty build cache (a fresh box has one) rebuilds the standard library: ~10 s.
	// The compiler and linker against GOROOT's prebuilt packages take ~0.1 s for a single-file main.
	compile: () => {
		const root = goRoot() ?? "/usr/lib/go";
		const pkg = path.join(root, "pkg/linux_amd64");
		const tool = path.join(root, "pkg/tool/linux_amd64");
		return {
			argv: [
				"/bin/sh",
				"-c",
				'"$1/compile" -p main -complete -o main.o -I "$2" main.go && "$1/link" -o /box/prog -L "$2" main.o',
				"go",
				tool,
				pkg,
			],
			artifact: "/box/prog",
		};
	},
	runArtifact: "/box/prog",
	run: () => ["/box/prog"],
	env: () => ({
		GOCACHE: "/box/.cache/go-build",
		GOPATH: "/box/go",
		GOROOT: goRoot() ?? "/usr/lib/go",
		GOMAXPROCS: "2",
	}),
};
