/** The pages of the app, matched from a URL path. */
export type Route =
	| { readonly name: "login" }
	| { readonly name: "signup" }
	| { readonly name: "sessions" }
	| { readonly name: "session"; readonly id: string }
	| { readonly name: "join"; readonly token: string }
	| { readonly name: "notFound" };

/** Session ids as the server issues them (nanoid alphabet); longer ones are never valid. */
const SESSION_PATH = /^\/s\/([A-Za-z0-9_-]{1,64})\/?$/;
/** Invite-link tokens as the server issues them. */
const JOIN_PATH = /^\/join\/([A-Za-z0-9_-]{1,128})\/?$/;

export function matchRoute(pathname: string): Route {
	if (pathname === "/" || pathname === "/sessions" || pathname === "/sessions/") return { name: "sessions" };
	if (pathname === "/login" || pathname === "/login/") return { name: "login" };
	if (pathname === "/signup" || pathname === "/signup/") return { name: "signup" };
	const m = SESSION_PATH.exec(pathname);
	if (m?.[1]) return { name: "session", id: m[1] };
	const j = JOIN_PATH.exec(pathname);
	if (j?.[1]) return { name: "join", token: j[1] };
	return { name: "notFound" };
}

export function sessionPath(id: string): string {
	return `/s/${encodeURIComponent(id)}`;
}

/** The login page that sends the visitor back to `next` afterwards. */
export function loginPath(next: string): string {
	return next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`;
}

/**
 * Where to go after logging in: only a path on this origin (a leading single "/"), so a
 * crafted link cannot send people to another site.
 */
export function safeNext(next: string | null | undefined): string {
	if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
	return next;
}
