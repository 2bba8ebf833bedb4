import type { Language } from "./Language.ts";
import { findExecutable } from "./toolchain.ts";

export const go: Language = {
	id: "go",
	name: "Go",
	sourceFile: "main.go",
	toolchain: () => findExecutable("/usr/bin/go"),
	versionProbe: () => ["/usr/bin/go", "version"],
	compile: () => ({ argv: ["/usr/bin/go", "build", "-o", "/box/prog", "main.go"], artifact: "/box/prog" }),
	runArtifact: "/box/prog",
	run: () => ["/box/prog"],
	// The build cache and GOPATH live in the box's tmpfs; no modules, no network, no cgo.
	env: () => ({
		GOCACHE: "/box/.cache/go-build",
		GOPATH: "/box/go",
		GO111MODULE: "off",
		CGO_ENABLED: "0",
		GOFLAGS: "-trimpath",
		GOMAXPROCS: "2",
	}),
};
