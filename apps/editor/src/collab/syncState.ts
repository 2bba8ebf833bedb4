import * as Y from "yjs";
import { fromBase64 } from "./base64.ts";

/** What the sync indicator shows. */
export type SyncState = "offline" | "syncing" | "saved";

/** Decode the state vector the server broadcasts after a store, or null when malformed. */
export function decodeStoredMessage(payload: string): Map<number, number> | null {
	let message: unknown;
	try {
		message = JSON.parse(payload);
	} catch {
		return null;
	}
	const { type, stateVector } = (message ?? {}) as { type?: unknown; stateVector?: unknown };
	if (type !== "stored" || typeof stateVector !== "string") return null;
	try {
		return Y.decodeStateVector(fromBase64(stateVector));
	} catch {
		return null;
	}
}

/**
 * Whether the stored state covers every local change: for each client whose edits were
 * made on this device, the stored clock reaches the local clock.
 */
export function coversLocalChanges(
	stored: ReadonlyMap<number, number>,
	local: ReadonlyMap<number, number>,
	localClients: Iterable<number>,
): boolean {
	for (const client of localClients) {
		const clock = local.get(client) ?? 0;
		if (clock > 0 && (stored.get(client) ?? 0) < clock) return false;
	}
	return true;
}

/** The indicator's state from the connection and the last stored state vector. */
export function syncState(input: {
	readonly connected: boolean;
	readonly synced: boolean;
	readonly covered: boolean;
}): SyncState {
	if (!input.connected) return "offline";
	return input.synced && input.covered ? "saved" : "syncing";
}
