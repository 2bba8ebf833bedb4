import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import * as Y from "yjs";
import { ROOT } from "./document.ts";

/** Root names the SPEC allows (CS1); any other root in an update is refused or dropped (CS9). */
export const ROOT_NAMES: ReadonlySet<string> = new Set(Object.values(ROOT));

/** What an update would add, read without applying it. */
export interface UpdateShape {
	/** Structs (items, GC and skip ranges) in the update. */
	readonly structs: number;
	/** Delete ranges in the update's delete set. */
	readonly deleteRanges: number;
	/** Root names that items of the update name as their parent. */
	readonly roots: ReadonlySet<string>;
	/** Items holding a subdocument (the SPEC has none). */
	readonly subdocs: number;
}

/** Thrown by inspectUpdate: `kind` says whether the bytes are not an update, past a bound, or name a foreign root. */
export class UpdateShapeError extends Error {
	override name = "UpdateShapeError";
	readonly kind: "malformed" | "too-large" | "foreign-root";
	constructor(kind: "malformed" | "too-large" | "foreign-root", message: string, cause?: unknown) {
		super(message, { cause });
		this.kind = kind;
	}
}

// Yjs v1 struct info bits (yjs src/structs/Item.js readItem).
const BITS5 = 0x1f;
const BIT6 = 0x20;
const BIT7 = 0x40;
const BIT8 = 0x80;
const CONTENT_GC = 0;
const CONTENT_SKIP = 10;
const TYPE_XML_ELEMENT = 3;
const TYPE_XML_HOOK = 5;

/**
 * Walk a Yjs v1 update struct by struct without building a single Item (the way Yjs' lazy reader does,
 * but stopping at the first bound): counts structs and delete ranges and collects the root names items
 * attach to. Cost is linear in the bytes read and stops after `maxStructs` structs. Throws
 * UpdateShapeError: "malformed" when the bytes do not decode, "too-large" past a bound.
 */
export function inspectUpdate(
	update: Uint8Array,
	bounds: {
		readonly maxStructs: number;
		readonly maxDeleteRanges: number;
		/** When given, the first root outside it stops the walk with a "foreign-root" error. */
		readonly allowedRoots?: ReadonlySet<string>;
	},
): UpdateShape {
	const decoder = new Y.UpdateDecoderV1(decoding.createDecoder(update));
	const rest = decoder.restDecoder;
	let structs = 0;
	let deleteRanges = 0;
	let subdocs = 0;
	const roots = new Set<string>();
	try {
		const clients = decoding.readVarUint(rest);
		for (let c = 0; c < clients; c++) {
			const count = decoding.readVarUint(rest);
			decoder.readClient();
			decoding.readVarUint(rest); // first clock
			structs += count;
			// A struct takes at least one byte: a claim the bytes cannot hold is garbage, not a big update.
			if (count > update.length - rest.pos) throw new Error(`update claims ${count} structs in ${update.length} bytes`);
			if (structs > bounds.maxStructs)
				throw new UpdateShapeError("too-large", `update holds more than ${bounds.maxStructs} structs`);
			for (let i = 0; i < count; i++) {
				const info = decoder.readInfo();
				const ref = info & BITS5;
				if (ref === CONTENT_GC) {
					decoder.readLen();
					continue;
				}
				if (ref === CONTENT_SKIP) {
					decoding.readVarUint(rest);
					continue;
				}
				const cantCopyParentInfo = (info & (BIT7 | BIT8)) === 0;
				if ((info & BIT8) === BIT8) decoder.readLeftID();
				if ((info & BIT7) === BIT7) decoder.readRightID();
				if (cantCopyParentInfo) {
					if (decoder.readParentInfo()) {
						const root = decoder.readString();
						if (bounds.allowedRoots && !bounds.allowedRoots.has(root))
							throw new UpdateShapeError(
								"foreign-root",
								`update adds root "${root.slice(0, 64)}" outside the SPEC (CS1)`,
							);
						roots.add(root);
					} else decoder.readLeftID();
					if ((info & BIT6) === BIT6) decoder.readString();
				}
				if (skipContent(decoder, ref)) subdocs++;
			}
		}
		const dsClients = decoding.readVarUint(rest);
		for (let c = 0; c < dsClients; c++) {
			decoder.resetDsCurVal();
			decoding.readVarUint(rest); // client
			const ranges = decoding.readVarUint(rest);
			deleteRanges += ranges;
			if (deleteRanges > bounds.maxDeleteRanges)
				throw new UpdateShapeError("too-large", `update holds more than ${bounds.maxDeleteRanges} delete ranges`);
			for (let i = 0; i < ranges; i++) {
				decoder.readDsClock();
				decoder.readDsLen();
			}
		}
	} catch (e: unknown) {
		if (e instanceof UpdateShapeError) throw e;
		throw new UpdateShapeError("malformed", "update does not decode", e);
	}
	return { structs, deleteRanges, roots, subdocs };
}

/** Read past one item's content (yjs contentRefs); true when it is a subdocument. */
function skipContent(decoder: Y.UpdateDecoderV1, ref: number): boolean {
	switch (ref) {
		case 1: // deleted
			decoder.readLen();
			return false;
		case 2: {
			// JSON
			const len = decoder.readLen();
			for (let i = 0; i < len; i++) decoder.readString();
			return false;
		}
		case 3: // binary
			decoder.readBuf();
			return false;
		case 4: // string
			decoder.readString();
			return false;
		case 5: // embed
			decoder.readJSON();
			return false;
		case 6: // format
			decoder.readKey();
			decoder.readJSON();
			return false;
		case 7: {
			// type
			const typeRef = decoder.readTypeRef();
			if (typeRef === TYPE_XML_ELEMENT || typeRef === TYPE_XML_HOOK) decoder.readKey();
			else if (typeRef > 6) throw new Error(`unknown type ref ${typeRef}`);
			return false;
		}
		case 8: {
			// any
			const len = decoder.readLen();
			for (let i = 0; i < len; i++) decoder.readAny();
			return false;
		}
		case 9: // subdocument
			decoder.readString();
			decoder.readAny();
			return true;
		default:
			throw new Error(`unknown content ref ${ref}`);
	}
}

/**
 * A stored state without the items of roots outside ROOT_NAMES (SPEC CS9): each such item becomes a
 * GC range of the same clocks, so everything nested in it is dropped when Yjs integrates it (an item
 * whose parent or neighbour is GC becomes GC). Works on the update, never on a Y.Doc, so a document
 * poisoned with 60,000 roots (RELIABILITY 43) costs linear time instead of quadratic encoding. Returns
 * `state` itself when it names no foreign root.
 */
export function dropForeignRoots(state: Uint8Array): Uint8Array {
	let shape: UpdateShape;
	try {
		shape = inspectUpdate(state, {
			maxStructs: Number.POSITIVE_INFINITY,
			maxDeleteRanges: Number.POSITIVE_INFINITY,
		});
	} catch {
		return state; // Not ours to judge here: applying it reports the error as before.
	}
	if ([...shape.roots].every((name) => ROOT_NAMES.has(name))) return state;
	const { structs, ds } = Y.decodeUpdate(state);
	const encoder = new Y.UpdateEncoderV1();
	const byClient = new Map<number, Array<Y.Item | Y.GC | { id: Y.ID; length: number }>>();
	for (const struct of structs) {
		let list = byClient.get(struct.id.client);
		if (!list) byClient.set(struct.id.client, (list = []));
		const foreign = struct instanceof Y.Item && typeof struct.parent === "string" && !ROOT_NAMES.has(struct.parent);
		list.push(foreign ? new Y.GC(struct.id, struct.length) : struct);
	}
	encoding.writeVarUint(encoder.restEncoder, byClient.size);
	for (const [client, list] of byClient) {
		encoding.writeVarUint(encoder.restEncoder, list.length);
		encoder.writeClient(client);
		encoding.writeVarUint(encoder.restEncoder, list[0]?.id.clock ?? 0);
		for (const struct of list) (struct as { write(e: Y.UpdateEncoderV1, offset: number): void }).write(encoder, 0);
	}
	encoding.writeVarUint(encoder.restEncoder, ds.clients.size);
	for (const [client, ranges] of ds.clients) {
		encoder.resetDsCurVal();
		encoding.writeVarUint(encoder.restEncoder, client);
		encoding.writeVarUint(encoder.restEncoder, ranges.length);
		for (const range of ranges) {
			encoder.writeDsClock(range.clock);
			encoder.writeDsLen(range.len);
		}
	}
	return encoder.toUint8Array();
}
