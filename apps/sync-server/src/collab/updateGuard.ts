import {
	inspectUpdate,
	MAX_DELETE_RANGES_PER_UPDATE,
	MAX_DOCUMENT_BYTES,
	MAX_STRUCTS_PER_UPDATE,
	ROOT_NAMES,
	UpdateShapeError,
} from "@tandem/crdt-schema";
import * as decoding from "lib0/decoding";
import * as Y from "yjs";
import { DocumentTooLarge, MalformedUpdate, UpdateTooCostly } from "./closeEvents.ts";

// y-protocols message and sync step types (Hocuspocus MessageType.Sync / SyncReply; sync step 2 / update).
const MESSAGE_SYNC = 0;
const MESSAGE_SYNC_REPLY = 4;
const SYNC_STEP_2 = 1;
const SYNC_UPDATE = 2;

/**
 * Y.applyUpdate integrates structs whose history is missing ("pending") in time quadratic in
 * the number of such clients: 8,000 of them (a 48 KB message) block the event loop ~150 ms,
 * and a 4 MiB frame holds ~700,000 (minutes). A live editor's update depends only on state the
 * server has; a reconnecting one's sync step 2 may carry other clients' offline edits, but not
 * hundreds of clients whose history the server lacks.
 */
export const MAX_PENDING_CLIENTS = 256;
/**
 * Every page load is a new Yjs client, so a long-lived session's full state may name thousands;
 * parsing an update costs ~0.4 µs per client block, so 20,000 stay well under a millisecond budget
 * of the lag bound while refusing a 4 MiB frame of empty client blocks before it is parsed.
 */
export const MAX_CLIENTS_PER_UPDATE = 20_000;

/** Thrown to close one socket; Hocuspocus closes the connection with `code` and `reason`. */
export class UpdateRefused extends Error {
	override name = "UpdateRefused";
	readonly code: number;
	readonly reason: string;
	constructor(event: { code: number; reason: string }, detail: string, cause?: unknown) {
		super(`${event.reason}: ${detail}`, { cause });
		this.code = event.code;
		this.reason = event.reason;
	}
}

/**
 * Checks one Yjs v1 update against a document before it is applied (RELIABILITY 15, 43, 44): it must
 * decode completely; it may not name more than MAX_CLIENTS_PER_UPDATE clients, leave more than
 * MAX_PENDING_CLIENTS clients waiting for missing history, carry more than MAX_STRUCTS_PER_UPDATE
 * structs or MAX_DELETE_RANGES_PER_UPDATE delete ranges, attach items to a root outside the SPEC
 * (CS1) or hold a subdocument; and the document may not grow past MAX_DOCUMENT_BYTES (CS8).
 * Throws UpdateRefused (4400 malformed, 4422 refused, 4414 too large).
 */
export function checkUpdate(doc: Y.Doc, update: Uint8Array): void {
	if (update.length > MAX_DOCUMENT_BYTES)
		throw new UpdateRefused(DocumentTooLarge, `update of ${update.length} bytes exceeds ${MAX_DOCUMENT_BYTES}`);
	let claimedClients: number;
	try {
		claimedClients = decoding.readVarUint(decoding.createDecoder(update));
	} catch (e: unknown) {
		throw new UpdateRefused(MalformedUpdate, "empty or truncated update", e);
	}
	// A client block is at least three varints (struct count, client, clock): a claim the bytes cannot hold is garbage.
	if (claimedClients * 3 > update.length - 1)
		throw new UpdateRefused(MalformedUpdate, `update claims ${claimedClients} clients in ${update.length} bytes`);
	// Y.applyUpdate loops over the claimed count and throws only when the bytes run out, so the claim bounds the work.
	if (claimedClients > MAX_CLIENTS_PER_UPDATE)
		throw new UpdateRefused(UpdateTooCostly, `update names ${claimedClients} clients`);
	checkShape(update);
	let from: Map<number, number>;
	let to: Map<number, number>;
	try {
		// The lazy reader walks every struct without integrating (or preallocating for claimed counts).
		({ from, to } = Y.parseUpdateMeta(update));
	} catch (e: unknown) {
		throw new UpdateRefused(MalformedUpdate, "update does not decode", e);
	}
	let pending = 0;
	for (const [client, clock] of from) {
		if (clock > Y.getState(doc.store, client)) pending++;
	}
	const alreadyPending = doc.store.pendingStructs?.missing.size ?? 0;
	if (pending + alreadyPending > MAX_PENDING_CLIENTS)
		throw new UpdateRefused(UpdateTooCostly, `${pending + alreadyPending} clients with missing history`);
	checkDocumentGrowth(doc, update, { from, to });
}

/** Structure bounds and SPEC roots, read from the bytes without applying them (RELIABILITY 43). */
function checkShape(update: Uint8Array): void {
	try {
		const shape = inspectUpdate(update, {
			maxStructs: MAX_STRUCTS_PER_UPDATE,
			maxDeleteRanges: MAX_DELETE_RANGES_PER_UPDATE,
			allowedRoots: ROOT_NAMES,
		});
		if (shape.subdocs > 0) throw new UpdateRefused(UpdateTooCostly, "update holds a subdocument");
	} catch (e: unknown) {
		if (e instanceof UpdateShapeError)
			throw new UpdateRefused(e.kind === "malformed" ? MalformedUpdate : UpdateTooCostly, e.message, e);
		throw e;
	}
}

/**
 * Encoded size of each live document when last measured, plus the bytes of every update applied since
 * (from any path: sockets, REST, Redis). Their sum bounds the encoded size from above (merging and
 * garbage collection only shrink it); the exact size is measured again only when the bound would pass
 * the limit, so a keystroke costs O(1) and a measurement at most one encoding of a capped document.
 */
interface SizeEstimate {
	measured: number;
	since: number;
}
const sizes = new WeakMap<Y.Doc, SizeEstimate>();

function estimateOf(doc: Y.Doc): SizeEstimate {
	let estimate = sizes.get(doc);
	if (!estimate) {
		const created: SizeEstimate = { measured: documentBytes(doc), since: 0 };
		doc.on("update", (applied: Uint8Array) => {
			created.since += applied.length;
		});
		sizes.set(doc, created);
		estimate = created;
	}
	return estimate;
}

/** Encoded size of a document in bytes (the stored state's size, SPEC CS6). */
export function documentBytes(doc: Y.Doc): number {
	return Y.encodeStateAsUpdate(doc).length;
}

/**
 * Throws UpdateRefused(DocumentTooLarge) when applying `update` could take `doc` past MAX_DOCUMENT_BYTES
 * (RELIABILITY 44). A document already past it (stored before the limit) only refuses growth.
 */
export function checkDocumentGrowth(
	doc: Y.Doc,
	update: Uint8Array,
	meta: { from: Map<number, number>; to: Map<number, number> } = Y.parseUpdateMeta(update),
): void {
	const estimate = estimateOf(doc);
	if (estimate.measured + estimate.since + update.length <= MAX_DOCUMENT_BYTES) return;
	if (estimate.since > 0) {
		estimate.measured = documentBytes(doc);
		estimate.since = 0;
	}
	if (estimate.measured + update.length <= MAX_DOCUMENT_BYTES) return;
	// The update may repeat what the document holds (a reconnecting client's sync step 2): only what is
	// new counts. An update whose every client starts past the document's clock is new throughout.
	let known = true;
	let overlaps = false;
	for (const [client, end] of meta.to) {
		const state = Y.getState(doc.store, client);
		if (end > state) known = false;
		if ((meta.from.get(client) ?? 0) < state) overlaps = true;
	}
	if (known) return;
	if (overlaps) {
		const diff = Y.diffUpdate(update, Y.encodeStateVector(doc));
		if (estimate.measured + diff.length <= MAX_DOCUMENT_BYTES) return;
	}
	throw new UpdateRefused(
		DocumentTooLarge,
		`document of ${estimate.measured} bytes plus an update of ${update.length} bytes exceeds ${MAX_DOCUMENT_BYTES}`,
	);
}

/**
 * Checks a raw Hocuspocus message before it is handled: a sync step 2 or update must pass
 * checkUpdate, so random bytes, truncated or garbage updates, and updates built to stall the
 * decoder close that socket (4400 / 4422) without touching the document or other clients.
 */
export function checkIncomingMessage(doc: Y.Doc, raw: Uint8Array): void {
	const update = syncUpdateOf(raw);
	if (update) checkUpdate(doc, update);
}

/** The Yjs update inside a raw Hocuspocus message, or null when it carries none. */
export function syncUpdateOf(raw: Uint8Array): Uint8Array | null {
	try {
		const decoder = decoding.createDecoder(raw);
		decoding.readVarString(decoder);
		const type = decoding.readVarUint(decoder);
		if (type !== MESSAGE_SYNC && type !== MESSAGE_SYNC_REPLY) return null;
		const step = decoding.readVarUint(decoder);
		if (step !== SYNC_STEP_2 && step !== SYNC_UPDATE) return null;
		return decoding.readVarUint8Array(decoder);
	} catch (e: unknown) {
		throw new UpdateRefused(MalformedUpdate, "truncated sync message", e);
	}
}
