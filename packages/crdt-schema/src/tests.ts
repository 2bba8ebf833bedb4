import * as Y from "yjs";
import { ROOT } from "./document.ts";

/** A visible test case as stored in the document (SPEC CS3). */
export interface TestCase {
	readonly id: string;
	readonly name: string;
	readonly stdin: string;
	readonly expected: string;
}

export type TestCasePatch = Partial<Omit<TestCase, "id">>;

const FIELDS = ["name", "stdin", "expected"] as const;

export function testsArray(doc: Y.Doc): Y.Array<Y.Map<string>> {
	return doc.getArray<Y.Map<string>>(ROOT.tests);
}

function toTestCase(map: Y.Map<string>): TestCase | undefined {
	const id = map.get("id");
	if (typeof id !== "string") return undefined;
	const text = (key: (typeof FIELDS)[number]) => {
		const value = map.get(key);
		return typeof value === "string" ? value : "";
	};
	return { id, name: text("name"), stdin: text("stdin"), expected: text("expected") };
}

/** All well-formed test cases in document order; malformed entries and repeated ids are skipped. */
export function readTests(doc: Y.Doc): TestCase[] {
	const out: TestCase[] = [];
	const seen = new Set<string>();
	for (const map of testsArray(doc)) {
		const test = map instanceof Y.Map ? toTestCase(map) : undefined;
		if (test && !seen.has(test.id)) {
			seen.add(test.id);
			out.push(test);
		}
	}
	return out;
}

export function findTestIndex(doc: Y.Doc, id: string): number {
	return testsArray(doc)
		.toArray()
		.findIndex((m) => m instanceof Y.Map && m.get("id") === id);
}

export function addTest(doc: Y.Doc, test: TestCase, origin: unknown = null, index?: number): void {
	doc.transact(() => {
		const map = new Y.Map<string>();
		map.set("id", test.id);
		for (const key of FIELDS) map.set(key, test[key]);
		const tests = testsArray(doc);
		tests.insert(index === undefined ? tests.length : Math.max(0, Math.min(index, tests.length)), [map]);
	}, origin);
}

/** Apply a patch to a test; returns false when no test has that id. */
export function updateTest(doc: Y.Doc, id: string, patch: TestCasePatch, origin: unknown = null): boolean {
	const index = findTestIndex(doc, id);
	if (index < 0) return false;
	const map = testsArray(doc).get(index);
	doc.transact(() => {
		for (const key of FIELDS) {
			const value = patch[key];
			if (value !== undefined && map.get(key) !== value) map.set(key, value);
		}
	}, origin);
	return true;
}

export function removeTest(doc: Y.Doc, id: string, origin: unknown = null): boolean {
	const index = findTestIndex(doc, id);
	if (index < 0) return false;
	doc.transact(() => testsArray(doc).delete(index, 1), origin);
	return true;
}

/**
 * Move a test to `toIndex`. Yjs has no move, so the entry is copied and the old one
 * deleted in one transaction; concurrent moves of the same test may leave two copies,
 * which readers de-duplicate by id (SPEC CS3).
 */
export function moveTest(doc: Y.Doc, id: string, toIndex: number, origin: unknown = null): boolean {
	const index = findTestIndex(doc, id);
	if (index < 0) return false;
	const test = toTestCase(testsArray(doc).get(index));
	if (!test) return false;
	doc.transact(() => {
		testsArray(doc).delete(index, 1);
		addTest(doc, test, origin, toIndex);
	}, origin);
	return true;
}
