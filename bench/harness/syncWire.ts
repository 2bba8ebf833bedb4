import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import WebSocket from "ws";

/** Which wire protocol a light client speaks: Hocuspocus (document name prefix, auth) or y-websocket. */
export type WireProtocol = "hocuspocus" | "y-websocket";

// Message types shared by both protocols (y-protocols), plus the Hocuspocus-only ones.
const MSG_SYNC = 0;
const MSG_AWARENESS = 1;
const MSG_AUTH = 2;
const MSG_SYNC_REPLY = 4;
const MSG_PING = 9;
const MSG_PONG = 10;
const SYNC_STEP1 = 0;
const SYNC_STEP2 = 1;
const SYNC_UPDATE = 2;
const AUTH_TOKEN = 0;
const AUTH_PERMISSION_DENIED = 1;
const AUTH_AUTHENTICATED = 2;
// An empty Yjs update (no structs, empty delete set): what a client without a document answers to SyncStep1.
const EMPTY_UPDATE = new Uint8Array([0, 0]);
// An awareness update with no entries: keeps the socket alive without touching any state.
const EMPTY_AWARENESS = new Uint8Array([0]);

export interface WireClientOptions {
	readonly protocol: WireProtocol;
	/** ws:// URL of the socket (for y-websocket the document name is the path). */
	readonly url: string;
	readonly documentName: string;
	readonly token?: string;
	/** State vector to announce in SyncStep1 (a writer's document); empty for readers. */
	readonly stateVector?: Uint8Array;
	/** Answer to the server's SyncStep1: the update the server lacks (default: nothing). */
	readonly answerStep1?: (serverStateVector: Uint8Array) => Uint8Array;
	/** Called with the raw bytes of every update the server relays after the initial sync. */
	readonly onUpdate?: (update: Uint8Array) => void;
	/** Send an empty awareness message this often so the server's idle timeout never fires. */
	readonly keepaliveMs?: number;
}

/** WebSocket payload plus frame header bytes of one message (RFC 6455: client frames carry a 4-byte mask). */
export function frameBytes(payloadLength: number, masked: boolean): number {
	const extended = payloadLength > 65_535 ? 8 : payloadLength > 125 ? 2 : 0;
	return 2 + extended + (masked ? 4 : 0) + payloadLength;
}

/**
 * A document-less sync client: speaks just enough of the Hocuspocus or y-websocket
 * protocol to authenticate, finish the initial sync, send updates and see relayed ones,
 * so one process can hold thousands of connections without a Y.Doc each.
 */
export class WireClient {
	readonly options: WireClientOptions;
	readonly socket: WebSocket;
	/** Bytes on the wire (payload + frame headers), both directions. */
	bytesSent = 0;
	bytesReceived = 0;
	updatesReceived = 0;
	private synced = false;
	private keepalive: NodeJS.Timeout | undefined;
	private readonly ready: Promise<void>;
	private readonly closed: Promise<void>;

	constructor(options: WireClientOptions) {
		this.options = options;
		this.socket = new WebSocket(options.url, { perMessageDeflate: false });
		this.socket.binaryType = "nodebuffer";
		this.closed = new Promise((resolve) => this.socket.once("close", () => resolve()));
		this.ready = new Promise((resolve, reject) => {
			this.socket.once("error", reject);
			this.socket.once("close", (code, reason) =>
				reject(new Error(`socket closed before sync (${code} ${reason.toString() || "no reason"})`)),
			);
			this.socket.once("open", () => this.start());
			this.socket.on("message", (data: Buffer) => {
				try {
					if (this.handle(data) && !this.synced) {
						this.synced = true;
						resolve();
					}
				} catch (e: unknown) {
					reject(e);
				}
			});
		});
		// A rejection nobody awaits yet (the caller awaits `synced()`) must not crash the process.
		this.ready.catch(() => {});
	}

	/** Resolves once the server has answered our SyncStep1. */
	whenSynced(): Promise<void> {
		return this.ready;
	}

	sendUpdate(update: Uint8Array): void {
		const encoder = this.header();
		encoding.writeVarUint(encoder, MSG_SYNC);
		encoding.writeVarUint(encoder, SYNC_UPDATE);
		encoding.writeVarUint8Array(encoder, update);
		this.send(encoding.toUint8Array(encoder));
	}

	/** Close the socket and wait for the close handshake. */
	async close(): Promise<void> {
		clearInterval(this.keepalive);
		if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
			this.socket.close(1000);
		}
		await this.closed;
	}

	private header(): encoding.Encoder {
		const encoder = encoding.createEncoder();
		if (this.options.protocol === "hocuspocus") encoding.writeVarString(encoder, this.options.documentName);
		return encoder;
	}

	private send(message: Uint8Array): void {
		this.bytesSent += frameBytes(message.byteLength, true);
		this.socket.send(message);
	}

	private start(): void {
		if (this.options.protocol === "hocuspocus") {
			const auth = this.header();
			encoding.writeVarUint(auth, MSG_AUTH);
			encoding.writeVarUint(auth, AUTH_TOKEN);
			encoding.writeVarString(auth, this.options.token ?? "");
			this.send(encoding.toUint8Array(auth));
		}
		const step1 = this.header();
		encoding.writeVarUint(step1, MSG_SYNC);
		encoding.writeVarUint(step1, SYNC_STEP1);
		encoding.writeVarUint8Array(step1, this.options.stateVector ?? new Uint8Array([0]));
		this.send(encoding.toUint8Array(step1));
		if (this.options.keepaliveMs) {
			this.keepalive = setInterval(() => {
				const ping = this.header();
				encoding.writeVarUint(ping, MSG_AWARENESS);
				encoding.writeVarUint8Array(ping, EMPTY_AWARENESS);
				this.send(encoding.toUint8Array(ping));
			}, this.options.keepaliveMs);
			this.keepalive.unref();
		}
	}

	/** Handle one incoming message; true when it completes the initial sync. */
	private handle(data: Buffer): boolean {
		this.bytesReceived += frameBytes(data.byteLength, false);
		if (data.byteLength === 1 && data[0] === MSG_PING) {
			const pong = encoding.createEncoder();
			encoding.writeVarUint(pong, MSG_PONG);
			this.send(encoding.toUint8Array(pong));
			return false;
		}
		const decoder = decoding.createDecoder(data);
		if (this.options.protocol === "hocuspocus") decoding.readVarString(decoder);
		const type = decoding.readVarUint(decoder);
		if (type === MSG_AUTH && this.options.protocol === "hocuspocus") {
			const auth = decoding.readVarUint(decoder);
			if (auth === AUTH_PERMISSION_DENIED) {
				throw new Error(`permission denied: ${decoding.hasContent(decoder) ? decoding.readVarString(decoder) : ""}`);
			}
			if (auth !== AUTH_AUTHENTICATED) throw new Error(`unexpected auth message ${auth}`);
			return false;
		}
		if (type !== MSG_SYNC && type !== MSG_SYNC_REPLY) return false;
		const step = decoding.readVarUint(decoder);
		if (step === SYNC_STEP1) {
			const serverVector = decoding.readVarUint8Array(decoder);
			const reply = this.header();
			encoding.writeVarUint(reply, MSG_SYNC);
			encoding.writeVarUint(reply, SYNC_STEP2);
			encoding.writeVarUint8Array(reply, this.options.answerStep1?.(serverVector) ?? EMPTY_UPDATE);
			this.send(encoding.toUint8Array(reply));
			return false;
		}
		if (step === SYNC_STEP2) return true;
		if (step === SYNC_UPDATE && this.synced) {
			this.updatesReceived += 1;
			this.options.onUpdate?.(decoding.readVarUint8Array(decoder));
		}
		return false;
	}
}
