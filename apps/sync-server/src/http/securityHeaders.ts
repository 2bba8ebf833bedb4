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
 * Security headers on every answer (@fastify/helmet): the CSP above, `X-Frame-Options: DENY`,
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, and helmet's other defaults.
 * No `upgrade-insecure-requests`: a plain-HTTP instance on a LAN address must keep loading its assets.
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
	await app.register(fastifyHelmet, {
		global: true,
		contentSecurityPolicy: {
			useDefaults: false,
			directives: { ...CONTENT_SECURITY_POLICY },
		},
		xFrameOptions: { action: "deny" },
		referrerPolicy: { policy: "no-referrer" },
	});
}
