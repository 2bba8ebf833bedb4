import type { IncomingMessage } from "node:http";
import { defineConfig, type Plugin, type ProxyOptions, type Rollup } from "vite";
import { VitePWA } from "vite-plugin-pwa";
import { precompress } from "./scripts/precompress.ts";

/** Where `npm run dev` sends API and collaboration traffic (the sync-server's default port). */
const API_TARGET = process.env.TANDEM_API ?? "http://127.0.0.1:8080";

/** REST paths of the sync-server (CONTRACT). `/sessions`, `/login` and `/signup` are also pages. */
const API_PATHS = [
	"/register",
	"/login",
	"/logout",
	"/me",
	"/sessions",
	"/session/",
	"/create-session",
	"/invite-user",
	"/submit-code",
	"/submissions",
	"/execute-code",
	"/languages",
	"/livez",
	"/readyz",
	"/metrics",
	"/events",
];

// A browser navigation (GET with Accept: text/html) to a path that is both a page and an API
// call gets the app; fetch() calls go to the server.
function pageBypass(req: IncomingMessage): string | undefined {
	if (req.method === "GET" && /text\/html/.test(req.headers.accept ?? "")) return "/index.html";
	return undefined;
}

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Navigations the service worker must never answer with index.html: REST calls, the
 * WebSocket endpoint and health checks. `/sessions`, `/login` and `/signup` are left out on
 * purpose: a navigation there is the page (the server answers the same way).
 */
export const NAVIGATION_DENYLIST: readonly RegExp[] = [
	/^\/collab(?:\/|$)/,
	...API_PATHS.filter((p) => !["/sessions", "/login"].includes(p)).map(
		(p) => new RegExp(`^${escapeRegExp(p)}${p.endsWith("/") ? "" : "(?:/|$)"}`),
	),
];

const proxy: Record<string, ProxyOptions> = {
	"/collab": { target: API_TARGET, ws: true, changeOrigin: false },
};
for (const p of API_PATHS) proxy[p] = { target: API_TARGET, changeOrigin: false, bypass: pageBypass };

/** The modules a session page needs beyond the entry, by source path. */
const SESSION_MODULES = /\/src\/(?:ui\/sessionPage|collab\/openSession)\.ts$/;

/**
 * On `/s/{id}` fetch the session page's chunks (CodeMirror, the provider) while the entry
 * loads instead of after it ran. The HTML is the same for every route (the service worker
 * serves it for all of them), so a one-line script in it adds the modulepreload links.
 */
function preloadSessionChunks(): Plugin {
	return {
		name: "tandem:preload-session-chunks",
		apply: "build",
		transformIndexHtml: {
			order: "post",
			handler(_html, context) {
				const chunks = Object.values(context.bundle ?? {}).filter((c): c is Rollup.OutputChunk => c.type === "chunk");
				const byFile = new Map(chunks.map((c) => [c.fileName, c]));
				const files = new Set<string>();
				const visit = (chunk: Rollup.OutputChunk | undefined) => {
					if (!chunk || chunk.isEntry || files.has(chunk.fileName)) return;
					files.add(chunk.fileName);
					for (const file of chunk.imports) visit(byFile.get(file));
				};
				for (const chunk of chunks) if (SESSION_MODULES.test(chunk.facadeModuleId ?? "")) visit(chunk);
				if (files.size === 0) throw new Error("session page chunks not found for the modulepreload script");
				const hrefs = JSON.stringify([...files].sort().map((f) => `/${f}`));
				return [
					{
						tag: "script",
						children: `if(/^\\/s\\//.test(location.pathname))for(const href of ${hrefs}){const l=document.createElement("link");l.rel="modulepreload";l.crossOrigin="";l.href=href;document.head.append(l)}`,
						injectTo: "head-prepend",
					},
				];
			},
		},
	};
}

export default defineConfig({
	root: import.meta.dirname,
	build: {
		outDir: "dist",
		emptyOutDir: true,
		target: "es2022",
		sourcemap: false,
		// Every browser the app supports (ES2022, service workers) preloads modules natively.
		modulePreload: { polyfill: false },
	},
	plugins: [
		preloadSessionChunks(),
		VitePWA({
			// A new deploy waits for the person: the app shows "A new version is available — Reload".
			registerType: "prompt",
			injectRegister: false,
			strategies: "generateSW",
			includeAssets: ["apple-touch-icon.png"],
			manifest: {
				id: "/",
				name: "Tandem — collaborative code editor",
				short_name: "Tandem",
				description: "Edit and run code together, online or offline.",
				start_url: "/",
				scope: "/",
				display: "standalone",
				theme_color: "#2563eb",
				background_color: "#ffffff",
				icons: [
					{ src: "/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
					{ src: "/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
					{ src: "/icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
				],
			},
			workbox: {
				// The whole shell, including every lazily loaded CodeMirror language chunk.
				globPatterns: ["**/*.{js,css,html,png,svg,ico,webmanifest,wasm}"],
				// Language packs and the editor chunk stay well under this; the default 2 MiB is too tight for some.
				maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
				navigateFallback: "/index.html",
				navigateFallbackDenylist: [...NAVIGATION_DENYLIST],
				// REST and WebSocket traffic always goes to the network: no runtime caching at all.
				runtimeCaching: [],
				cleanupOutdatedCaches: true,
			},
			devOptions: { enabled: false },
		}),
		// Last: Brotli and gzip copies of every text file, the service worker included (issue 17).
		precompress(),
	],
	server: { proxy },
	preview: { proxy },
});
