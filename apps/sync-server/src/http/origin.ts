/**
 * Whether a browser Origin may act on this server (RELIABILITY 28): no Origin (not a
 * browser), the server's own origin (same host), or one listed in ALLOWED_ORIGINS.
 */
export function isAllowedOrigin(
	origin: string | undefined,
	host: string | undefined,
	allowed: readonly string[],
): boolean {
	if (origin === undefined || origin === "") return true;
	if (allowed.includes(origin)) return true;
	try {
		const url = new URL(origin);
		return host !== undefined && url.host === host;
	} catch {
		return false;
	}
}
