import { javascript, nodeSyntaxError } from "./javascript.ts";
import { heapMb, type Language } from "./Language.ts";
import { BOX_NODE } from "./toolchain.ts";

// Node 24 strips erasable TypeScript types natively: no compiler in the box.
export const typescript: Language = {
	...javascript,
	id: "typescript",
	name: "TypeScript",
	sourceFile: "main.ts",
	run: (limits) => [
		BOX_NODE,
		"--disable-warning=ExperimentalWarning",
		`--max-old-space-size=${heapMb(limits, 0.75)}`,
		"main.ts",
	],
	isSyntaxError: (o) =>
		nodeSyntaxError(o.stderr, "main.ts") ||
		/ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX|ERR_INVALID_TYPESCRIPT_SYNTAX/.test(o.stderr),
};
