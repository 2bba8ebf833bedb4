/// <reference types="vite-plugin-pwa/vanillajs" />
import { registerSW } from "virtual:pwa-register";

/** The text of the bar shown when a new deploy is waiting. */
export const UPDATE_MESSAGE = "A new version is available —";

function updateBar(onReload: () => void): HTMLElement {
	const bar = document.createElement("div");
	bar.className = "update-bar";
	bar.setAttribute("role", "status");
	const text = document.createElement("span");
	text.textContent = UPDATE_MESSAGE;
	const reload = document.createElement("button");
	reload.type = "button";
	reload.textContent = "Reload";
	reload.addEventListener("click", () => {
		reload.disabled = true;
		onReload();
	});
	const later = document.createElement("button");
	later.type = "button";
	later.className = "secondary";
	later.textContent = "Later";
	later.addEventListener("click", () => bar.remove());
	bar.append(text, " ", reload, " ", later);
	return bar;
}

/**
 * Register the service worker that precaches the app shell (so every page opens offline).
 * A new version installs in the background and waits; the page then shows "A new version is
 * available — Reload", and Reload activates it and reloads. Does nothing where service
 * workers are unavailable (insecure origins).
 */
export function registerOfflineShell(): void {
	if (!("serviceWorker" in navigator)) return;
	let shown: HTMLElement | null = null;
	const updateSW = registerSW({
		immediate: true,
		onNeedRefresh() {
			if (shown?.isConnected) return;
			shown = updateBar(() => void updateSW(true));
			document.body.append(shown);
		},
		onRegisterError(error: unknown) {
			console.error("service worker registration failed", error);
		},
	});
}
