import { existsSync } from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { ApiError } from "./errors.ts";

/**
 * Vite's content-hashed output: a file's name changes whenever its bytes do, so a browser or CDN
 * may keep it for a year (the longest RFC 9111 advises) without asking again.
 */
export const IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable";
/**
 * Everything else (the page, the manifest, the service worker, unhashed icons): kept, but
 * revalidated on every use (a 304 against its ETag), so a deploy reaches everyone at once.
 */
export const REVALIDATE_CACHE_CONTROL = "no-cache";
/** Where Vite writes hashed files (build.assetsDir). */
const HASHED_PREFIX = "/assets/";

/** The cache-control of a file served from the editor's build, by its path inside the build. */
export function cacheControlFor(relativePath: string): string {
	const pathname = `/${relativePath
		.split(path.sep)
		.join("/")
		.replace(/\.(?:br|gz)$/, "")}`;
	return pathname.startsWith(HASHED_PREFIX) ? IMMUTABLE_CACHE_CONTROL : REVALIDATE_CACHE_CONTROL;
}

/** Client-side routes of the editor that get index.html (SPA fallback). */
const APP_ROUTE = /^\/(?:s\/[A-Za-z0-9_-]{1,64}|join\/[A-Za-z0-9_-]{1,128}|login|signup|sessions)\/?$/;

/**
 * Serve the built editor at `/`, with index.html for app routes. Register before the API
 * routes so its onRequest hook applies to them. The build's `.br`/`.gz` copies (made by
 * apps/editor/scripts/precompress.ts) are sent to clients that accept them (`vary:
 * accept-encoding`); cache-control per {@link cacheControlFor}. Without a build,
 * `/` says how to make one; API paths and missing assets stay JSON 404s.
 */
export async function registerStaticRoutes(app: FastifyInstance, editorDist: string): Promise<void> {
	const hasDist = existsSync(path.join(editorDist, "index.html"));
	if (hasDist) {
		await app.register(fastifyStatic, {
			root: editorDist,
			prefix: "/",
			wildcard: true,
			index: ["index.html"],
			preCompressed: true,
			cacheControl: false,
			setHeaders: (reply, filePath) => {
				reply.header("cache-control", cacheControlFor(path.relative(editorDist, filePath)));
			},
		});
	} else {
		app.get("/", async (_request, reply) =>
			reply
				.type("text/plain; charset=utf-8")
				.send("The editor is not built. Run `npm run build -w apps/editor` (or `npm start` at the repository root)."),
		);
	}
	// `/sessions` is both a page and an API call: a browser navigation (Accept: text/html)
	// gets the app, fetch() (Accept: */* or JSON) gets the API.
	app.addHook("onRequest", async (request, reply) => {
		if (!hasDist || request.method !== "GET") return;
		const pathname = request.url.split("?")[0] ?? "/";
		if (APP_ROUTE.test(pathname) && /text\/html/.test(request.headers.accept ?? "")) {
			return reply.type("text/html; charset=utf-8").sendFile("index.html");
		}
	});
	app.setNotFoundHandler((request, reply) => {
		const pathname = request.url.split("?")[0] ?? "/";
		if (hasDist && (request.method === "GET" || request.method === "HEAD") && APP_ROUTE.test(pathname)) {
			return reply.type("text/html; charset=utf-8").sendFile("index.html");
		}
		throw new ApiError("not_found", `No route for ${request.method} ${pathname}`);
	});
}
