/** Listeners the router installs; kept here so pages can navigate without importing main. */
let onNavigate: (() => void) | null = null;

export function setNavigationHandler(handler: () => void): void {
	onNavigate = handler;
}

/** Go to an app path with the history API (no page load). */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
	if (options.replace) history.replaceState(null, "", path);
	else history.pushState(null, "", path);
	onNavigate?.();
}

/** A link inside the app that navigates without reloading. */
export function appLink(href: string, text: string, className?: string): HTMLAnchorElement {
	const a = document.createElement("a");
	a.href = href;
	a.textContent = text;
	if (className) a.className = className;
	a.addEventListener("click", (event) => {
		if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
		event.preventDefault();
		navigate(href);
	});
	return a;
}
