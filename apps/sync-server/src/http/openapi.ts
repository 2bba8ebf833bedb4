import fastifySwagger from "@fastify/swagger";
import type { FastifyInstance } from "fastify";

/** Version of the REST interface the document describes (CONTRACT.md; bump on an incompatible change). */
export const API_VERSION = "1.0.0";

/** `:name` path segments of a Fastify route URL, in order. */
function pathParams(url: string): string[] {
	return [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
}

function escapeHtml(s: string): string {
	return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Register @fastify/swagger (dynamic mode: it collects every route registered after it, with the
 * JSON schema a route declares and, for routes without one, their path parameters). Call before
 * registering any route to document.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
	await app.register(fastifySwagger, {
		openapi: {
			openapi: "3.1.0",
			info: {
				title: "Tandem sync-server",
				version: API_VERSION,
				description:
					"REST interface of Tandem (CONTRACT.md). Collaboration runs over the WebSocket /collab/{sessionId}; errors are { error, message } with an HTTP status.",
			},
			components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
		},
		transform: ({ schema, url }) => {
			const names = pathParams(url);
			const s = (schema ?? {}) as Record<string, unknown>;
			if (names.length === 0 || s.params) return { schema: s, url };
			const params = {
				type: "object",
				properties: Object.fromEntries(names.map((n) => [n, { type: "string" }])),
				required: names,
			};
			return { schema: { ...s, params }, url };
		},
	});
}

/**
 * Serve `GET /openapi.json` (OpenAPI 3.1, from registerOpenApi) and `GET /api-docs` (a plain HTML
 * list of the operations, no script, so the strict CSP holds).
 */
export function registerOpenApiRoutes(app: FastifyInstance): void {
	app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
	app.get("/api-docs", { schema: { hide: true } }, async (_request, reply) => {
		const doc = app.swagger() as { paths?: Record<string, Record<string, { summary?: string }>> };
		const rows = Object.entries(doc.paths ?? {}).flatMap(([p, ops]) =>
			Object.entries(ops).map(
				([method, op]) =>
					`<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(p)}</code></td><td>${escapeHtml(op.summary ?? "")}</td></tr>`,
			),
		);
		return reply
			.type("text/html; charset=utf-8")
			.send(
				`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tandem API reference</title></head><body><h1>Tandem API reference</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Interface rules: CONTRACT.md.</p><table><thead><tr><th>Method</th><th>Path</th><th>Summary</th></tr></thead><tbody>${rows.join("")}</tbody></table></body></html>`,
			);
	});
}
