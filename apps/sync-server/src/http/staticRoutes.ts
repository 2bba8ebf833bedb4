import { existsSync } from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { ApiError } from "./errors.ts";

/** Client-side routes of the editor that get index.html (SPA fallback). */
const APP_ROUTE = /^\/(?:s\/[A-Za-z0-9_-]{1,64}|join\/[A-Za-z0-9_-]{1,128}|login|signup|sessions)\/?$/;

/**
 * Serve the built editor at `/`, with index.html for app routes. Register before the API
 * routes so its onRequest hook applies to them. Without a build,
 * `/` says how to make one; API paths and missing assets stay JSON 404s.
 */
export async function registerStaticRoutes(app: FastifyInstance, editorDist: string): Promise<void> {
	const hasDist = existsSync(path.join(editorDist, "index.html"));
	if (hasDist) {
		await app.register(fastifyStatic, { root: editorDist, prefix: "/", wildcard: true, index: ["index.html"] });
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
