import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import type { Language } from "./Language.ts";
import { findExecutable } from "./toolchain.ts";

let sysroot: string | null | undefined;

/** The toolchain sysroot (`rustc --print sysroot`), found once; only it is bound into the box. */
function rustSysroot(): string | undefined {
	if (sysroot === undefined) {
		sysroot = null;
		// Not resolved through symlinks: ~/.cargo/bin/rustc is rustup, which dispatches on its argv[0].
		const rustc = [
			path.join(process.env.HOME ?? "/root", ".cargo/bin/rustc"),
			"/usr/local/bin/rustc",
			"/usr/bin/rustc",
		].find((p) => findExecutable(p));
		if (rustc) {
			try {
				const out = execFileSync(rustc, ["--print", "sysroot"], { encoding: "utf8", timeout: 10_000 }).trim();
				if (existsSync(path.join(out, "bin/rustc"))) sysroot = out;
			} catch {
				sysroot = null;
			}
		}
	}
	return sysroot ?? undefined;
}

export const rust: Language = {
	id: "rust",
	name: "Rust",
	sourceFile: "main.rs",
	toolchain: () => {
		const root = rustSysroot();
		return root ? path.join(root, "bin/rustc") : undefined;
	},
	versionProbe: () => [path.join(rustSysroot() ?? "", "bin/rustc"), "--version"],
	compile: () => ({
		argv: [path.join(rustSysroot() ?? "", "bin/rustc"), "--edition", "2021", "-O", "-o", "/box/prog", "main.rs"],
		artifact: "/box/prog",
	}),
	runArtifact: "/box/prog",
	run: () => ["/box/prog"],
	binds: () => {
		const root = rustSysroot();
		return root ? [{ src: root, dest: root }] : [];
	},
};
