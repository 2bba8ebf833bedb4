import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import fastifyHelmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";

/**
 * The editor's Content-Security-Policy (RELIABILITY 51): everything from this origin only. Styles
 * allow inline because CodeMirror and the UI set element styles at run time; `connect-src 'self'`
 * covers fetch, EventSource and the same-origin WebSocket; the service worker and manifest come from
 * here; no page may frame the app.
 */
export const CONTENT_SECURITY_POLICY = Object.freeze({
	"default-src": ["'self'"],
	"script-src": ["'self'"],
	"style-src": ["'self'", "'unsafe-inline'"],
	"img-src": ["'self'", "data:", "blob:"],
	"font-src": ["'self'", "data:"],
	"connect-src": ["'self'"],
	"media-src": ["'self'", "blob:"],
	"worker-src": ["'self'"],
	"manifest-src": ["'self'"],
	"object-src": ["'none'"],
	"base-uri": ["'self'"],
	"form-action": ["'self'"],
	"frame-ancestors": ["'none'"],
});

/**
 * CSP source expressions (`'sha256-…'`) for the inline scripts of a built index.html (the editor's
 * build inlines a small preload script), so they run while every other inline script stays refused.
 */
export function inlineScriptHashes(html: string): string[] {
	const hashes: string[] = [];
	for (const match of html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
		const body = match[1] ?? "";
		if (body.trim() === "") continue;
		hashes.push(`'sha256-${createHash("sha256").update(body, "utf8").digest("base64")}'`);
	}
	return hashes;
}

function editorInlineScripts(editorDist: string): string[] {
	try {
		return inlineScriptHashes(readFileSync(path.join(editorDist, "index.html"), "utf8"));
	} catch {
		return [];
	}
}

/**
 * Security headers on every answer (@fastify/helmet): the CSP above (plus the hashes of the built
 * editor's inline scripts), `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`,
 * `Referrer-Policy: no-referrer`, and helmet's other defaults. No `upgrade-insecure-requests`: a
 * plain-HTTP instance on a LAN address must keep loading its assets.
 */
export async function registerSecurityHeaders(app: FastifyInstance, editorDist: string): Promise<void> {
	const directives: Record<string, string[]> = Object.fromEntries(
		Object.entries(CONTENT_SECURITY_POLICY).map(([name, sources]) => [name, [...sources]]),
	);
	directives["script-src"]?.push(...editorInlineScripts(editorDist));
	await app.register(fastifyHelmet, {
		global: true,
		contentSecurityPolicy: { useDefaults: false, directives },
		xFrameOptions: { action: "deny" },
		referrerPolicy: { policy: "no-referrer" },
	});
}
