import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { Awareness, applyAwarenessUpdate } from "y-protocols/awareness";
import * as Y from "yjs";

// Hocuspocus message types and auth subtypes (@hocuspocus/common, provider/src/types.ts).
const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
const MESSAGE_AUTH = 2;
const MESSAGE_CLOSE = 7;
const AUTH_TOKEN = 0;
const AUTH_DENIED = 1;
const AUTH_OK = 2;
const SYNC_STEP_1 = 0;
const SYNC_STEP_2 = 1;

/** One awareness entry as y-protocols encodes it: a state of `null` removes the client. */
export interface AwarenessEntry {
	clientId: number;
	clock: number;
	state: unknown;
}

/** A y-protocols awareness update carrying exactly the given entries (any client ids, any clocks). */
export function encodeAwareness(entries: readonly AwarenessEntry[]): Uint8Array {
	const encoder = encoding.createEncoder();
	encoding.writeVarUint(encoder, entries.length);
	for (const { clientId, clock, state } of entries) {
		encoding.writeVarUint(encoder, clientId);
		encoding.writeVarUint(encoder, clock);
		encoding.writeVarString(encoder, JSON.stringify(state));
	}
	return encoding.toUint8Array(encoder);
}

/**
 * A collaboration socket driven frame by frame, as a hostile client would: it authenticates
 * like the stock provider and then sends whatever it is told. It counts every byte it receives.
 */
export interface RawCollab {
	/** Bytes received since the socket opened (all frames, all message types). */
	readonly bytesReceived: () => number;
	/** Every awareness state the server sent this socket, applied as a provider would. */
	readonly awareness: Awareness;
	/**
	 * Send sync step 1 and wait for the server's step 2: messages on one socket are handled in
	 * order, so everything sent before has been handled, and everything the server sent this
	 * socket before its answer has arrived. Rejects if the socket closes first.
	 */
	roundTrip(): Promise<void>;
	/**
	 * Why the server closed this document's connection (its CLOSE message, or the socket's close
	 * reason), once it did; null while open.
	 */
	readonly closeReason: () => string | null;
	sendAwareness(entries: readonly AwarenessEntry[]): void;
	/** The frame sendAwareness would send, to build ahead of a measurement and send with sendFrame. */
	awarenessFrame(entries: readonly AwarenessEntry[]): Uint8Array;
	sendFrame(frame: Uint8Array): void;
	/** Resolves once the document's connection or the socket is closed (by either side). */
	readonly closed: Promise<void>;
	close(): void;
}

/** Open `wsUrl`, authenticate for `documentName` with `token`; resolves once the server accepted. */
export async function openRawCollab(wsUrl: string, documentName: string, token: string): Promise<RawCollab> {
	const ws = new WebSocket(wsUrl);
	ws.binaryType = "arraybuffer";
	let received = 0;
	let syncReplies = 0;
	const replyWaiters: Array<() => void> = [];
	const awareness = new Awareness(new Y.Doc());
	awareness.setLocalState(null);
	let reason: string | null = null;
	let markClosed = (): void => {};
	const closed = new Promise<void>((resolve) => {
		markClosed = resolve;
	});
	ws.addEventListener("close", (event) => {
		reason ??= event.reason || `socket closed (${event.code})`;
		markClosed();
	});
	const frame = (build: (encoder: encoding.Encoder) => void): Uint8Array => {
		const encoder = encoding.createEncoder();
		encoding.writeVarString(encoder, documentName);
		build(encoder);
		return encoding.toUint8Array(encoder);
	};
	await new Promise<void>((resolve, reject) => {
		ws.addEventListener("error", () => reject(new Error("socket error")));
		ws.addEventListener("open", () => {
			ws.send(
				frame((e) => {
					encoding.writeVarUint(e, MESSAGE_AUTH);
					encoding.writeVarUint(e, AUTH_TOKEN);
					encoding.writeVarString(e, token);
					encoding.writeVarString(e, "3.0.0");
				}),
			);
		});
		ws.addEventListener("message", (event) => {
			const data = new Uint8Array(event.data as ArrayBuffer);
			received += data.byteLength;
			const decoder = decoding.createDecoder(data);
			decoding.readVarString(decoder);
			const type = decoding.readVarUint(decoder);
			if (type === MESSAGE_AWARENESS) {
				applyAwarenessUpdate(awareness, decoding.readVarUint8Array(decoder), "server");
				return;
			}
			if (type === MESSAGE_CLOSE) {
				reason ??= decoding.readVarString(decoder);
				markClosed();
				return;
			}
			if (type === MESSAGE_SYNC && decoding.readVarUint(decoder) === SYNC_STEP_2) {
				syncReplies++;
				for (const wake of replyWaiters.splice(0)) wake();
				return;
			}
			if (type !== MESSAGE_AUTH) return;
			const kind = decoding.readVarUint(decoder);
			if (kind === AUTH_OK) resolve();
			if (kind === AUTH_DENIED) reject(new Error(`authentication failed: ${decoding.readVarString(decoder)}`));
		});
		void closed.then(() => reject(new Error(`closed before authentication (${reason})`)));
	});
	const awarenessFrame = (entries: readonly AwarenessEntry[]): Uint8Array => {
		const update = encodeAwareness(entries);
		return frame((e) => {
			encoding.writeVarUint(e, MESSAGE_AWARENESS);
			encoding.writeVarUint8Array(e, update);
		});
	};
	return {
		bytesReceived: () => received,
		awareness,
		async roundTrip() {
			const before = syncReplies;
			ws.send(
				frame((e) => {
					encoding.writeVarUint(e, MESSAGE_SYNC);
					encoding.writeVarUint(e, SYNC_STEP_1);
					encoding.writeVarUint8Array(e, Y.encodeStateVector(new Y.Doc()));
				}),
			);
			while (syncReplies === before) {
				if (reason !== null) throw new Error(`connection closed: ${reason}`);
				await Promise.race([new Promise<void>((r) => replyWaiters.push(r)), closed]);
			}
		},
		closeReason: () => reason,
		sendAwareness(entries) {
			ws.send(awarenessFrame(entries));
		},
		awarenessFrame,
		sendFrame(data) {
			ws.send(data);
		},
		closed,
		close() {
			ws.close();
		},
	};
}
