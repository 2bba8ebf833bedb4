import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { codeText, readCode } from "./document.ts";
import { dropForeignRoots, inspectUpdate, ROOT_NAMES, UpdateShapeError } from "./updateShape.ts";

const unbounded = { maxStructs: Number.MAX_SAFE_INTEGER, maxDeleteRanges: Number.MAX_SAFE_INTEGER };

function poisoned(): Uint8Array {
	const doc = new Y.Doc();
	codeText(doc).insert(0, "print(1)\n");
	const evil = doc.getMap("evil");
	const nested = new Y.Map<string>();
	evil.set("nested", nested);
	nested.set("deep", "x".repeat(100));
	doc.getArray("other").insert(0, [1, 2, 3]);
	codeText(doc).insert(0, "# top\n");
	codeText(doc).delete(0, 2);
	return Y.encodeStateAsUpdate(doc);
}

describe("inspectUpdate and dropForeignRoots (SPEC CS9, RELIABILITY 43)", () => {
	it("RELIABILITY 43: names every root an update attaches to, counts structs and deletes, without applying it", () => {
		const shape = inspectUpdate(poisoned(), unbounded);
		expect([...shape.roots].sort()).toEqual(["code", "evil", "other"]);
		expect(shape.structs).toBeGreaterThan(3);
		expect(shape.deleteRanges).toBe(1);
		expect(() => inspectUpdate(poisoned(), { ...unbounded, allowedRoots: ROOT_NAMES })).toThrow(UpdateShapeError);
		expect(() => inspectUpdate(poisoned(), { ...unbounded, maxStructs: 2 })).toThrow(/more than 2 structs/);
		expect(() => inspectUpdate(new Uint8Array([5, 1]), unbounded)).toThrow(/does not decode/);
	});

	it("RELIABILITY 43: drops foreign roots and everything nested in them, keeping the document's own text", () => {
		const clean = dropForeignRoots(poisoned());
		const doc = new Y.Doc();
		Y.applyUpdate(doc, clean);
		expect(readCode(doc)).toBe("top\nprint(1)\n");
		expect([...doc.share.keys()]).toEqual(["code"]);
		expect([...inspectUpdate(Y.encodeStateAsUpdate(doc), unbounded).roots]).toEqual(["code"]);
		const good = Y.encodeStateAsUpdate(doc);
		expect(dropForeignRoots(good)).toBe(good);
	});
});
