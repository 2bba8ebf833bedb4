import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Toolchain } from "./LanguageDefinition.ts";

/** Node 24 from the repo's own node_modules (the system node is older), bound at this path. */
export const SANDBOX_NODE = "/opt/node/bin/node";

export function hostNodePath(): string | undefined {
	const fromRepo = fileURLToPath(new URL("../../../../node_modules/node/bin/node", import.meta.url));
	if (existsSync(fromRepo)) return fromRepo;
	return Number(process.versions.node.split(".")[0]) >= 24 ? process.execPath : undefined;
}

export function nodeToolchain(): Toolchain | undefined {
	const host = hostNodePath();
	return host ? { binds: [{ host, sandbox: SANDBOX_NODE }] } : undefined;
}
