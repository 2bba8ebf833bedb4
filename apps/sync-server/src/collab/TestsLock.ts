import type { beforeHandleMessagePayload, Extension } from "@hocuspocus/server";
import { ROOT } from "@tandem/crdt-schema";
import * as Y from "yjs";
import { isManager } from "../sessions/roles.ts";
import { TestsLocked } from "./closeEvents.ts";
import { isCollabContext } from "./collabContext.ts";
import { syncUpdateOf, UpdateRefused } from "./updateGuard.ts";

type Struct = Y.Item | Y.GC | { id: Y.ID; length: number };

/** What a struct resolves to: the name of its root type, or null when it cannot be known. */
type RootOf = string | null;

/**
 * Whether applying `update` to `doc` would insert into, change or delete anything under the
 * root type named `root`, directly or nested (SPEC CS10). Items are traced to their root
 * through the update itself and the document; an item whose parent or a deletion whose target
 * is in neither (it would wait for history the server lacks) counts as touching it, because it
 * could land under `root` once that history arrives.
 */
export function updateTouchesRoot(doc: Y.Doc, update: Uint8Array, root: string): boolean {
	const { structs, ds } = Y.decodeUpdate(update);
	const fresh = new Map<number, Struct[]>();
	for (const s of structs as Struct[]) {
		let list = fresh.get(s.id.client);
		if (!list) fresh.set(s.id.client, (list = []));
		list.push(s);
	}
	const memo = new Map<Struct, RootOf>();
	// An update lists each client's structs in ascending clock order: binary search.
	const freshAt = (id: Y.ID): Struct | undefined => {
		const list = fresh.get(id.client);
		if (!list) return undefined;
		let lo = 0;
		let hi = list.length - 1;
		while (lo <= hi) {
			const mid = (lo + hi) >> 1;
			const s = list[mid] as Struct;
			if (id.clock < s.id.clock) hi = mid - 1;
			else if (id.clock >= s.id.clock + s.length) lo = mid + 1;
			else return s;
		}
		return undefined;
	};
	const docItemAt = (id: Y.ID): Y.Item | Y.GC | undefined => {
		if (id.clock >= Y.getState(doc.store, id.client)) return undefined;
		try {
			return Y.getItem(doc.store, id) as Y.Item | Y.GC;
		} catch {
			return undefined;
		}
	};
	const rootOfDocStruct = (s: Y.Item | Y.GC): RootOf => {
		if (!(s instanceof Y.Item)) return "";
		let type = s.parent as Y.AbstractType<unknown> | null;
		while (type?._item) type = type._item.parent as Y.AbstractType<unknown> | null;
		return type ? Y.findRootTypeKey(type) : "";
	};
	const rootOfId = (id: Y.ID, depth: number): RootOf => {
		const own = freshAt(id);
		if (own) return rootOfFresh(own, depth + 1);
		const existing = docItemAt(id);
		return existing ? rootOfDocStruct(existing) : null;
	};
	const rootOfFresh = (s: Struct, depth: number): RootOf => {
		const known = memo.get(s);
		if (known !== undefined) return known;
		// Nesting deeper than the update's own length is a cycle: refuse to guess.
		if (depth > structs.length + 1 || !(s instanceof Y.Item)) return s instanceof Y.Item ? null : "";
		const parent = s.parent as unknown;
		let result: RootOf;
		if (typeof parent === "string") result = parent;
		else if (parent instanceof Y.ID) result = rootOfId(parent, depth);
		else if (s.origin) result = rootOfId(s.origin, depth);
		else if (s.rightOrigin) result = rootOfId(s.rightOrigin, depth);
		else result = null;
		memo.set(s, result);
		return result;
	};
	for (const s of structs as Struct[]) {
		const r = rootOfFresh(s, 0);
		if (r === null || r === root) return true;
	}
	for (const [client, ranges] of ds.clients) {
		const known = Y.getState(doc.store, client);
		const docStructs = doc.store.clients.get(client) ?? [];
		for (const { clock, len } of ranges) {
			for (let at = clock; at < clock + len; ) {
				const own = freshAt(Y.createID(client, at));
				if (own) {
					const r = rootOfFresh(own, 0);
					if (r === null || r === root) return true;
					at = own.id.clock + own.length;
					continue;
				}
				if (at >= known) return true;
				const index = Y.findIndexSS(docStructs as never, at);
				const existing = docStructs[index] as Y.Item | Y.GC | undefined;
				if (!existing) return true;
				if (rootOfDocStruct(existing) === root) return true;
				at = existing.id.clock + existing.length;
			}
		}
	}
	return false;
}

/**
 * Only the owner and interviewers change the tests (CONTRACT "Interviews"): an update from
 * anyone else that touches the document's `tests` root is refused before it is applied, so it
 * is neither stored nor relayed, and that socket closes with 4423 (TestsLocked). Read-only
 * connections are skipped: Hocuspocus drops their updates anyway. Runs after AuthExtension,
 * whose update guard has checked that the update decodes.
 */
export class TestsLock implements Extension {
	readonly extensionName = "tandem-tests-lock";
	// Below AuthExtension (2000): its decode and cost checks come first.
	priority = 1900;

	async beforeHandleMessage({ update, document, connection }: beforeHandleMessagePayload): Promise<void> {
		const context = connection.context as unknown;
		if (!isCollabContext(context) || connection.readOnly || isManager(context.role)) return;
		const inner = syncUpdateOf(update);
		if (!inner) return;
		if (updateTouchesRoot(document, inner, ROOT.tests)) {
			throw new UpdateRefused(TestsLocked, `a ${context.role} may not change the tests`);
		}
	}
}
