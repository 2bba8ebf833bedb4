import type { Language } from "./Language.ts";
import { etcBinds, findExecutable } from "./toolchain.ts";

export const php: Language = {
	id: "php",
	name: "PHP",
	sourceFile: "main.php",
	toolchain: () => findExecutable("/usr/bin/php"),
	versionProbe: () => ["/usr/bin/php", "--version"],
	run: (limits) => [
		"/usr/bin/php",
		"-d",
		`memory_limit=${Math.floor((limits.memoryBytes * 0.75) / (1024 * 1024))}M`,
		"-d",
		"display_errors=stderr",
		"main.php",
	],
	binds: () => etcBinds("php"),
	isSyntaxError: (o) => /PHP Parse error:|^Parse error:/m.test(o.stderr + o.stdout),
	isOutOfMemory: (o) => /Allowed memory size of \d+ bytes exhausted/.test(o.stderr + o.stdout),
};
