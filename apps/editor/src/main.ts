import "./ui/app.css";
import { loadAuth } from "./auth/authStore.ts";
import { registerOfflineShell } from "./storage/offlineShell.ts";
import { refreshProfile } from "./storage/profileCache.ts";
import { renderLoginPage, renderSignupPage } from "./ui/authPages.ts";
import { h, replaceChildren } from "./ui/dom.ts";
import { afterStartup } from "./ui/idle.ts";
import { appLink, navigate, setNavigationHandler } from "./ui/navigation.ts";
import { loginPath, matchRoute } from "./ui/routes.ts";
import { abandonSession, startSession } from "./ui/sessionStart.ts";
import { renderSessionsPage } from "./ui/sessionsPage.ts";

const root = document.getElementById("app") ?? document.body;
let cleanup: (() => void) | null = null;
// Increments per navigation so a page that finishes loading late does not outlive its route.
let generation = 0;
/** Settles when the first page no longer needs the network to itself (a session page: its details arrived). */
let firstPageStarted: Promise<unknown> = Promise.resolve();

async function render(): Promise<void> {
	const current = ++generation;
	cleanup?.();
	cleanup = null;
	const route = matchRoute(location.pathname);
	const auth = loadAuth();
	if (route.name === "login") return renderLoginPage(root);
	if (route.name === "signup") return renderSignupPage(root);
	if (route.name === "join") {
		const { renderJoinPage } = await import("./ui/joinPage.ts");
		if (current === generation) await renderJoinPage(root, route.token);
		return;
	}
	if (!auth) {
		navigate(loginPath(location.pathname), { replace: true });
		return;
	}
	if (route.name === "sessions") {
		cleanup = renderSessionsPage(root, auth.user);
		return;
	}
	if (route.name === "session") {
		// The editor stack (CodeMirror) loads only on the session page; the session's details,
		// local copy and connection start meanwhile, without waiting for it.
		const start = startSession(route.id, auth);
		if (current === 1) firstPageStarted = start.view.catch(() => {});
		replaceChildren(root, h("main", { class: "loading" }, h("p", { role: "status" }, "Opening session…")));
		const { renderSessionPage } = await import("./ui/sessionPage.ts");
		if (current !== generation) return abandonSession(start);
		const close = await renderSessionPage(root, route.id, auth, start);
		if (current === generation) cleanup = close;
		else close();
		return;
	}
	replaceChildren(
		root,
		h("main", { class: "problem-page" }, h("h1", null, "Page not found"), appLink("/", "Back to my sessions")),
	);
}

setNavigationHandler(() => void render());
window.addEventListener("popstate", () => void render());
void render();
// Installing the service worker precaches the whole shell, and the profile refresh is one more
// request to the server: neither while the first page is starting.
void firstPageStarted.then(() =>
	afterStartup(() => {
		registerOfflineShell();
		void refreshProfile();
	}),
);
