import type { FastifyInstance } from "fastify";
import { ApiError } from "./errors.ts";

/**
 * The host name of a Host header, lower-case, without port or trailing dot (IPv6 stays in
 * brackets); null when absent or malformed.
 */
export function hostName(header: string | undefined): string | null {
	if (!header) return null;
	const value = header.trim().toLowerCase();
	const match = /^(\[[0-9a-f:.]+\]|[^:[\]/@\s]+)(?::\d{1,5})?$/.exec(value);
	if (!match?.[1]) return null;
	return match[1].replace(/\.$/, "");
}

/**
 * Whether a Host header names this server (RELIABILITY 51). A page on an attacker's domain that
 * rebinds its DNS name to 127.0.0.1 reaches a local server with its own name in Host: refusing
 * unknown names stops it reading the API or opening sockets. `allowed` null: any host.
 */
export function isAllowedHost(header: string | undefined, allowed: readonly string[] | null): boolean {
	if (allowed === null) return true;
	const name = hostName(header);
	return name !== null && allowed.includes(name);
}

/** Probes reach a node by its address, whatever names users use: they stay answerable. */
const PROBE_PATHS = new Set(["/livez", "/readyz"]);

/** Answer 400 to every request whose Host is not allowed (WebSocket upgrades check it themselves). */
export function registerHostCheck(app: FastifyInstance, allowed: readonly string[] | null): void {
	if (allowed === null) return;
	app.addHook("onRequest", async (request) => {
		if (PROBE_PATHS.has(request.url.split("?")[0] ?? "")) return;
		if (!isAllowedHost(request.headers.host, allowed)) {
			throw new ApiError(
				"invalid_input",
				"This server does not answer to that host name (add it to ALLOWED_HOSTS if it is yours)",
			);
		}
	});
}
