import type { Language } from "./Language.ts";
import { findExecutable } from "./toolchain.ts";

export const ruby: Language = {
	id: "ruby",
	name: "Ruby",
	sourceFile: "main.rb",
	toolchain: () => findExecutable("/usr/bin/ruby"),
	versionProbe: () => ["/usr/bin/ruby", "--version"],
	// --disable-gems: no gem paths to search in a box without gems; much faster start.
	run: () => ["/usr/bin/ruby", "--disable-gems", "main.rb"],
	isSyntaxError: (o) =>
		/(^main\.rb:\d+: syntax error|\(SyntaxError\)|syntax errors? found)/m.test(o.stderr) &&
		!/^\s+from /m.test(o.stderr),
	isOutOfMemory: (o) => /failed to allocate memory \(NoMemoryError\)/.test(o.stderr),
};
