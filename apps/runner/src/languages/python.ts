import type { Language } from "./Language.ts";
import { findExecutable } from "./toolchain.ts";

// /usr/bin/python3 is bound with /usr; the pyenv shim under /root is never used (it would need /root).
const PYTHON = "/usr/bin/python3";

export const python: Language = {
	id: "python",
	name: "Python",
	sourceFile: "main.py",
	toolchain: () => findExecutable(PYTHON),
	versionProbe: () => [PYTHON, "--version"],
	// -I: no user site, no PYTHON* variables; -B: no .pyc writes; -S skips site for a faster start.
	run: () => [PYTHON, "-I", "-B", "-S", "main.py"],
	isSyntaxError: (o) =>
		!o.stderr.startsWith("Traceback") && /^(SyntaxError|IndentationError|TabError): /m.test(o.stderr),
	isOutOfMemory: (o) => /^MemoryError/m.test(o.stderr),
};
