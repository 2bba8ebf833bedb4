import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import {
	addTest,
	codeText,
	decodeDocument,
	encodeDocument,
	migrateDocument,
	moveTest,
	normalizeCodeLineEndings,
	normalizeLineEndings,
	readCode,
	readLanguage,
	readSchemaVersion,
	readStdin,
	readTests,
	removeTest,
	SCHEMA_VERSION,
	seedDocument,
	setLanguage,
	setStdin,
	updateTest,
} from "./index.ts";

function sync(a: Y.Doc, b: Y.Doc): void {
	Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
	Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
}

describe("session document", () => {
	it("CS2: reads the default language when none is set and the set one otherwise", () => {
		const doc = new Y.Doc();
		expect(readLanguage(doc)).toBe("python");
		setLanguage(doc, "rust");
		expect(readLanguage(doc)).toBe("rust");
	});

	it("CS4: seeds code and language once and never twice", () => {
		const doc = new Y.Doc();
		expect(seedDocument(doc, { code: "print(1)\n", language: "python" })).toBe(true);
		expect(seedDocument(doc, { code: "print(1)\n", language: "go" })).toBe(false);
		expect(readCode(doc)).toBe("print(1)\n");
		expect(readLanguage(doc)).toBe("python");
		expect(readSchemaVersion(doc)).toBe(SCHEMA_VERSION);
	});

	it("CS5: migrates a version-0 document without touching its text", () => {
		const doc = new Y.Doc();
		codeText(doc).insert(0, "old text");
		migrateDocument(doc);
		expect(readSchemaVersion(doc)).toBe(SCHEMA_VERSION);
		expect(readCode(doc)).toBe("old text");
	});

	it("CS6: round-trips through binary state exactly", () => {
		const doc = new Y.Doc();
		seedDocument(doc, { code: "a\u00e9\u{1F600}\n", language: "c" });
		addTest(doc, { id: "t1", name: "one", stdin: "1", expected: "2" });
		const copy = decodeDocument(encodeDocument(doc));
		expect(readCode(copy)).toBe(readCode(doc));
		expect(readTests(copy)).toEqual(readTests(doc));
	});

	it("CS3: adds, updates, moves and removes tests", () => {
		const doc = new Y.Doc();
		addTest(doc, { id: "a", name: "A", stdin: "", expected: "x" });
		addTest(doc, { id: "b", name: "B", stdin: "", expected: "y" });
		expect(updateTest(doc, "a", { expected: "z" })).toBe(true);
		expect(updateTest(doc, "missing", { expected: "z" })).toBe(false);
		expect(moveTest(doc, "b", 0)).toBe(true);
		expect(readTests(doc).map((t) => t.id)).toEqual(["b", "a"]);
		expect(readTests(doc)[1]?.expected).toBe("z");
		expect(removeTest(doc, "b")).toBe(true);
		expect(readTests(doc).map((t) => t.id)).toEqual(["a"]);
	});

	it("CS3: concurrent moves of one test read back as one test", () => {
		const a = new Y.Doc();
		addTest(a, { id: "x", name: "X", stdin: "", expected: "" });
		addTest(a, { id: "y", name: "Y", stdin: "", expected: "" });
		const b = new Y.Doc();
		sync(a, b);
		moveTest(a, "x", 2);
		moveTest(b, "x", 2);
		sync(a, b);
		expect(readTests(a).map((t) => t.id)).toEqual(readTests(b).map((t) => t.id));
		expect(readTests(a).filter((t) => t.id === "x")).toHaveLength(1);
	});

	it("CS7 / RELIABILITY 38: seeding turns CRLF and a lone CR into LF, so offsets match the editor's", () => {
		expect(normalizeLineEndings("a = 1\r\nb = 2\r\nc\rd\n\r\n")).toBe("a = 1\nb = 2\nc\nd\n\n");
		const doc = new Y.Doc();
		seedDocument(doc, { code: "a = 1\r\nb = 2\r\n" });
		codeText(doc).insert("a = 1\n".length, "#");
		expect(readCode(doc)).toBe("a = 1\n#b = 2\n");
	});

	it("CS7 / RELIABILITY 38: a stored document holding CR line breaks is normalized as edits that merge", () => {
		const stored = new Y.Doc();
		codeText(stored).insert(0, "x\r\ny\rz\u0000\r\n");
		const peer = decodeDocument(encodeDocument(stored));
		expect(normalizeCodeLineEndings(stored)).toBe(true);
		expect(readCode(stored)).toBe("x\ny\nz\u0000\n");
		expect(normalizeCodeLineEndings(stored)).toBe(false);
		codeText(peer).insert(0, "!");
		sync(stored, peer);
		expect(readCode(peer)).toBe("!x\ny\nz\u0000\n");
		expect(readCode(stored)).toBe(readCode(peer));
	});

	it("CS10: setStdin changes only the differing middle, so a concurrent edit elsewhere survives", () => {
		const a = new Y.Doc();
		setStdin(a, "1 2\n3 4\n");
		const b = new Y.Doc();
		sync(a, b);
		setStdin(a, "1 2\n30 4\n");
		setStdin(b, "0 1 2\n3 4\n");
		sync(a, b);
		expect(readStdin(a)).toBe("0 1 2\n30 4\n");
		expect(readStdin(b)).toBe(readStdin(a));
		setStdin(a, "");
		expect(readStdin(a)).toBe("");
	});
});
