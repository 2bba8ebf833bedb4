import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const EDITOR_ROOT = path.join(REPO_ROOT, "apps/editor");

let built: Promise<string> | null = null;

/**
 * Build the editor into a fresh temporary folder (once per test process) and return it.
 * A private folder keeps parallel test files and a developer's `dist/` out of each other's way.
 */
export function buildEditor(): Promise<string> {
	built ??= (async () => {
		const outDir = mkdtempSync(path.join(os.tmpdir(), "tandem-editor-dist-"));
		await build({
			root: EDITOR_ROOT,
			configFile: path.join(EDITOR_ROOT, "vite.config.ts"),
			logLevel: "warn",
			build: { outDir, emptyOutDir: true },
		});
		return outDir;
	})();
	return built;
}
