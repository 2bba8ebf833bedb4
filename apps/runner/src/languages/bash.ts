import type { Language } from "./Language.ts";
import { findExecutable } from "./toolchain.ts";

export const bash: Language = {
	id: "bash",
	name: "Bash",
	sourceFile: "main.sh",
	toolchain: () => findExecutable("/usr/bin/bash", "/bin/bash"),
	versionProbe: () => ["/usr/bin/bash", "--version"],
	run: () => ["/usr/bin/bash", "main.sh"],
	isSyntaxError: (o) => o.exitCode === 2 && /^main\.sh: line \d+: syntax error/m.test(o.stderr),
};
