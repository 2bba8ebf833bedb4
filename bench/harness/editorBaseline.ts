import path from "node:path";
import { build } from "vite";
import { precompress } from "../../apps/editor/scripts/precompress.ts";
import { REPO_ROOT } from "./childServers.ts";

/** Where the baseline page is served, beside the Tandem app on the same server. */
export const BASELINE_BASE = "/editor-baseline/";

/**
 * Build bench/editor-baseline with Vite into `<editorDist>/editor-baseline/`, with the
 * editor's build options (production mode, target es2022, Vite's default minifier, no
 * source maps, the same Brotli/gzip copies), so the sync-server serves both pages from one
 * origin alike.
 */
export async function buildEditorBaseline(editorDist: string): Promise<string> {
	const outDir = path.join(editorDist, BASELINE_BASE);
	await build({
		root: path.join(REPO_ROOT, "bench/editor-baseline"),
		configFile: false,
		base: BASELINE_BASE,
		mode: "production",
		logLevel: "warn",
		build: { outDir, emptyOutDir: true, target: "es2022", sourcemap: false },
		plugins: [precompress()],
	});
	return outDir;
}
