/**
 * A Vite plugin that writes a Brotli (`.br`) and a gzip (`.gz`) copy next to every text file of
 * the build, once, at build time, so the server (@fastify/static `preCompressed`) and any CDN in
 * front of it send them without compressing per request (issue 17, docs/decisions/048).
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
import type { Plugin } from "vite";

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Files worth compressing: text. Images (PNG) and fonts are compressed already. */
const COMPRESSIBLE = /\.(?:js|mjs|css|html|svg|json|webmanifest|txt|wasm|map|ico)$/;

/**
 * Below this the response headers outweigh what compression saves; such files (registerSW.js)
 * travel as they are. The page itself (about 1 KB) is above it.
 */
const MIN_BYTES = 256;

async function* walk(dir: string): AsyncGenerator<string> {
	for (const entry of await readdir(dir, { withFileTypes: true })) {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) yield* walk(full);
		else if (entry.isFile()) yield full;
	}
}

/**
 * Compress every text file of `dir` (recursively) at the strongest settings (Brotli quality 11,
 * gzip level 9: paid once per build, not per request). A copy is written only when smaller
 * than the file. Returns the files compressed.
 */
export async function precompressFolder(dir: string): Promise<string[]> {
	const done: string[] = [];
	for await (const file of walk(dir)) {
		if (!COMPRESSIBLE.test(file)) continue;
		const bytes = await readFile(file);
		if (bytes.length < MIN_BYTES) continue;
		const [br, gz] = await Promise.all([
			brotli(bytes, {
				params: {
					[constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
					[constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
				},
			}),
			gzipAsync(bytes, { level: 9 }),
		]);
		if (br.length < bytes.length) await writeFile(`${file}.br`, br);
		if (gz.length < bytes.length) await writeFile(`${file}.gz`, gz);
		done.push(file);
	}
	return done;
}

/**
 * Runs after every other plugin's `closeBundle` (vite-plugin-pwa writes the service worker
 * there), so the service worker and workbox runtime are compressed too.
 */
export function precompress(): Plugin {
	let outDir = "";
	return {
		name: "tandem:precompress",
		apply: "build",
		configResolved(config) {
			outDir = path.resolve(config.root, config.build.outDir);
		},
		closeBundle: {
			order: "post",
			sequential: true,
			async handler() {
				await precompressFolder(outDir);
			},
		},
	};
}
