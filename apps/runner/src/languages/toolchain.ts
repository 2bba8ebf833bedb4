import { accessSync, constants, existsSync, readdirSync, realpathSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BoxBind } from "../sandbox/box.ts";

/** The first of these host paths that is an executable file, resolved through symlinks. */
export function findExecutable(...candidates: readonly string[]): string | undefined {
	for (const c of candidates) {
		try {
			accessSync(c, constants.X_OK);
			return realpathSync(c);
		} catch {
			// Try the next one.
		}
	}
	return undefined;
}

/** Read-only binds for each existing /etc entry with this prefix (e.g. "java-" → /etc/java-17-openjdk). */
export function etcBinds(prefix: string): BoxBind[] {
	try {
		return readdirSync("/etc")
			.filter((e) => e.startsWith(prefix))
			.map((e) => ({ src: path.join("/etc", e), dest: path.join("/etc", e) }));
	} catch {
		return [];
	}
}

/** The repository root (apps/runner/src/languages → four levels up). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

/** Node 24 from the repo's node_modules (system node is older); javascript and typescript run on it. */
export function nodeBinary(): string | undefined {
	const p = path.join(REPO_ROOT, "node_modules/node/bin/node");
	return existsSync(p) ? findExecutable(p) : undefined;
}

/** Where the node binary appears inside the box. */
export const BOX_NODE = "/opt/node/bin/node";
