import type { IncomingMessage } from "node:http";
import { defineConfig, type ProxyOptions } from "vite";

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
	server: { proxy },
	preview: { proxy },
});
