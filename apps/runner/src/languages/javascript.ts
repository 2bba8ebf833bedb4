import { heapMb, type Language } from "./Language.ts";
import { BOX_NODE, nodeBinary } from "./toolchain.ts";

/** Node reports syntax errors from its module loader, without a frame in the user's file. */
export function nodeSyntaxError(stderr: string, file: string): boolean {
	return /^SyntaxError: /m.test(stderr) && !stderr.includes(`(/box/${file}:`) && !stderr.includes(`at /box/${file}:`);
}

export const javascript: Language = {
	id: "javascript",
	name: "JavaScript",
	sourceFile: "main.js",
	toolchain: nodeBinary,
	versionProbe: () => [nodeBinary() ?? "node", "--version"],
	run: (limits) => [BOX_NODE, `--max-old-space-size=${heapMb(limits, 0.75)}`, "main.js"],
	env: () => ({ UV_THREADPOOL_SIZE: "2" }),
	binds: () => {
		const node = nodeBinary();
		return node ? [{ src: node, dest: BOX_NODE }] : [];
	},
	isSyntaxError: (o) => nodeSyntaxError(o.stderr, "main.js"),
	isOutOfMemory: (o) => /JavaScript heap out of memory/.test(o.stderr),
};
