import type { IncomingMessage } from "node:http";
import { defineConfig, type ProxyOptions } from "vite";
import { VitePWA } from "vite-plugin-pwa";

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

export default defineConfig({
	root: import.meta.dirname,
	build: {
		outDir: "dist",
		emptyOutDir: true,
		target: "es2022",
		sourcemap: false,
	},
	plugins: [
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
	],
	server: { proxy },
	preview: { proxy },
});
