/** Whether runs and tests can reach the server right now. */
export interface Connectivity {
	/** True when the browser is online and the session's connection (if any) is not down. */
	readonly online: boolean;
	/** Words for a disabled Run / Run tests button, or null when online. */
	readonly reason: string | null;
}

/** What the Run and Run tests buttons say while the server cannot be reached. */
export const OFFLINE_RUN_MESSAGE =
	"Offline: running code needs the server. Your edits are kept and sync when you reconnect.";

let sessionDown = false;
const listeners = new Set<(state: Connectivity) => void>();

function browserOnline(): boolean {
	return typeof navigator === "undefined" || navigator.onLine !== false;
}

/** The current connectivity (browser network state and the open session's connection). */
export function connectivity(): Connectivity {
	const online = browserOnline() && !sessionDown;
	return { online, reason: online ? null : OFFLINE_RUN_MESSAGE };
}

function emit(): void {
	const state = connectivity();
	for (const listener of listeners) listener(state);
}

/**
 * Call `listener` now and whenever connectivity changes (browser online/offline events and
 * the session connection). Returns an unsubscribe function. Run and Tests panels use this
 * to disable their buttons with `reason` as the visible message.
 */
export function onConnectivity(listener: (state: Connectivity) => void): () => void {
	if (listeners.size === 0 && typeof window !== "undefined") {
		window.addEventListener("online", emit);
		window.addEventListener("offline", emit);
	}
	listeners.add(listener);
	listener(connectivity());
	return () => {
		listeners.delete(listener);
		if (listeners.size === 0 && typeof window !== "undefined") {
			window.removeEventListener("online", emit);
			window.removeEventListener("offline", emit);
		}
	};
}

/** Called by openSession: whether the session's connection to the server is down. */
export function setSessionConnectionDown(down: boolean): void {
	if (down === sessionDown) return;
	sessionDown = down;
	emit();
}
