import type { ConnectionState } from "../collab/openSession.ts";
import type { SyncState } from "../collab/syncState.ts";
import { h } from "./dom.ts";

const CONNECTION_TEXT: Record<ConnectionState, string> = {
	connecting: "Connecting…",
	live: "Live",
	offline: "Offline",
};

const SYNC_TEXT: Record<SyncState, string> = {
	offline: "Offline",
	syncing: "Syncing…",
	saved: "Saved",
};

/** A status chip announced politely to screen readers when it changes. */
function badge(label: string, className: string): HTMLElement {
	return h("span", { class: `badge ${className}`, role: "status", "aria-live": "polite", "aria-label": label });
}

export function connectionBadge(): { element: HTMLElement; set(state: ConnectionState): void } {
	const element = badge("Connection", "connection");
	return {
		element,
		set(state) {
			element.dataset.state = state;
			element.textContent = CONNECTION_TEXT[state];
			element.setAttribute("aria-label", `Connection: ${CONNECTION_TEXT[state]}`);
		},
	};
}

export function syncBadge(): { element: HTMLElement; set(state: SyncState): void } {
	const element = badge("Changes", "sync");
	return {
		element,
		set(state) {
			element.dataset.state = state;
			element.textContent = SYNC_TEXT[state];
			element.setAttribute("aria-label", `Changes: ${SYNC_TEXT[state]}`);
		},
	};
}
