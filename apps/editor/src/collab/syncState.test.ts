import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { coversLocalChanges, decodeStoredMessage, syncState } from "./syncState.ts";

function storedMessage(doc: Y.Doc): string {
	const bytes = Y.encodeStateVector(doc);
	return JSON.stringify({ type: "stored", stateVector: btoa(String.fromCharCode(...bytes)) });
}

describe("sync indicator", () => {
	it("is saved only when the stored state vector covers the local edits", () => {
		const local = new Y.Doc();
		const server = new Y.Doc();
		local.getText("t").insert(0, "hello");
		Y.applyUpdate(server, Y.encodeStateAsUpdate(local));
		const stored = decodeStoredMessage(storedMessage(server));
		expect(stored).not.toBeNull();
		const clients = [local.clientID];
		expect(coversLocalChanges(stored ?? new Map(), Y.decodeStateVector(Y.encodeStateVector(local)), clients)).toBe(
			true,
		);

		local.getText("t").insert(5, " world");
		expect(coversLocalChanges(stored ?? new Map(), Y.decodeStateVector(Y.encodeStateVector(local)), clients)).toBe(
			false,
		);
	});

	it("ignores other people's edits that the store has not reached yet", () => {
		const local = new Y.Doc();
		const other = new Y.Doc();
		other.getText("t").insert(0, "theirs");
		Y.applyUpdate(local, Y.encodeStateAsUpdate(other));
		const stored = new Map<number, number>();
		const state = Y.decodeStateVector(Y.encodeStateVector(local));
		expect(coversLocalChanges(stored, state, [local.clientID])).toBe(true);
		expect(coversLocalChanges(stored, state, [local.clientID, other.clientID])).toBe(false);
	});

	it("rejects messages that are not stored notices", () => {
		expect(decodeStoredMessage("not json")).toBeNull();
		expect(decodeStoredMessage(JSON.stringify({ type: "run", stateVector: "AA==" }))).toBeNull();
		expect(decodeStoredMessage(JSON.stringify({ type: "stored", stateVector: "%%%" }))).toBeNull();
		expect(decodeStoredMessage(JSON.stringify({ type: "stored" }))).toBeNull();
	});

	it("shows offline when disconnected, syncing until covered, then saved", () => {
		expect(syncState({ connected: false, synced: true, covered: true })).toBe("offline");
		expect(syncState({ connected: true, synced: false, covered: true })).toBe("syncing");
		expect(syncState({ connected: true, synced: true, covered: false })).toBe("syncing");
		expect(syncState({ connected: true, synced: true, covered: true })).toBe("saved");
	});
});
