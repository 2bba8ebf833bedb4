import * as Y from "yjs";
import { DEFAULT_LANGUAGE } from "./languages.ts";

/** Root names of the session document (SPEC CS1). No other code uses these literals. */
export const ROOT = Object.freeze({
	code: "code",
	meta: "meta",
	tests: "tests",
	stdin: "stdin",
} as const);

/** Current schema version, stored in `meta.schemaVersion` (SPEC CS5). */
export const SCHEMA_VERSION = 1;

/** Keys of the `meta` map (SPEC CS2). */
export const META = Object.freeze({
	language: "language",
	title: "title",
	schemaVersion: "schemaVersion",
} as const);

/** Transaction origin for changes made by the server (seeding, REST writes). */
export const SERVER_ORIGIN = "tandem-server";

export function codeText(doc: Y.Doc): Y.Text {
	return doc.getText(ROOT.code);
}

export function metaMap(doc: Y.Doc): Y.Map<unknown> {
	return doc.getMap(ROOT.meta);
}

/** The session's shared program input (SPEC CS10): what Run feeds the program, edited like the code. */
export function stdinText(doc: Y.Doc): Y.Text {
	return doc.getText(ROOT.stdin);
}

export function readStdin(doc: Y.Doc): string {
	return stdinText(doc).toString();
}

/**
 * Make the stdin text equal `next` by one deletion and one insertion around the common prefix
 * and suffix, so a concurrent edit elsewhere in it survives (SPEC CS10).
 */
export function setStdin(doc: Y.Doc, next: string, origin: unknown = null): void {
	const text = stdinText(doc);
	const current = text.toString();
	if (current === next) return;
	let start = 0;
	const max = Math.min(current.length, next.length);
	while (start < max && current.charCodeAt(start) === next.charCodeAt(start)) start++;
	let end = 0;
	while (end < max - start && current.charCodeAt(current.length - 1 - end) === next.charCodeAt(next.length - 1 - end))
		end++;
	doc.transact(() => {
		const removed = current.length - start - end;
		if (removed > 0) text.delete(start, removed);
		const inserted = next.slice(start, next.length - end);
		if (inserted) text.insert(start, inserted);
	}, origin);
}

export function readCode(doc: Y.Doc): string {
	return codeText(doc).toString();
}

export function readLanguage(doc: Y.Doc): string {
	const value = metaMap(doc).get(META.language);
	return typeof value === "string" ? value : DEFAULT_LANGUAGE;
}

export function setLanguage(doc: Y.Doc, language: string, origin: unknown = null): void {
	doc.transact(() => metaMap(doc).set(META.language, language), origin);
}

export function readTitle(doc: Y.Doc): string {
	const value = metaMap(doc).get(META.title);
	return typeof value === "string" ? value : "";
}

export function setTitle(doc: Y.Doc, title: string, origin: unknown = null): void {
	doc.transact(() => metaMap(doc).set(META.title, title), origin);
}

export function readSchemaVersion(doc: Y.Doc): number {
	const value = metaMap(doc).get(META.schemaVersion);
	return typeof value === "number" ? value : 0;
}

/** Every line break the code document may not hold: CRLF and a lone CR (SPEC CS7). */
const FOREIGN_LINE_BREAK = /\r\n?/g;

/**
 * Code text with one line-ending convention, "\n" (SPEC CS7): CRLF and a lone CR become LF.
 * Apply it wherever code enters the document (REST, seeding, paste), so offsets in the
 * editor and in the Y.Text agree.
 */
export function normalizeLineEndings(text: string): string {
	return text.includes("\r") ? text.replace(FOREIGN_LINE_BREAK, "\n") : text;
}

/**
 * Rewrite the CR line breaks a stored code document already holds as LF (SPEC CS7), as
 * ordinary Y.Text edits so peers and offline copies merge them. Returns whether anything
 * changed. Documents written before CS7 (or by a client that did not follow it) get this
 * on load.
 */
export function normalizeCodeLineEndings(doc: Y.Doc, origin: unknown = SERVER_ORIGIN): boolean {
	const text = codeText(doc);
	const code = text.toString();
	if (!code.includes("\r")) return false;
	const breaks = [...code.matchAll(FOREIGN_LINE_BREAK)];
	doc.transact(() => {
		// From the end, so earlier offsets stay valid.
		for (let i = breaks.length - 1; i >= 0; i--) {
			const match = breaks[i] as RegExpExecArray;
			if (match[0] === "\r\n") text.delete(match.index, 1);
			else {
				text.delete(match.index, 1);
				text.insert(match.index, "\n");
			}
		}
	}, origin);
	return true;
}

export interface SeedOptions {
	readonly code?: string;
	readonly language?: string;
	readonly title?: string;
}

/**
 * Seed a brand-new document once (SPEC CS4). A document that already carries a schema
 * version is left untouched, so seeding twice never duplicates text.
 */
export function seedDocument(doc: Y.Doc, seed: SeedOptions, origin: unknown = SERVER_ORIGIN): boolean {
	if (readSchemaVersion(doc) !== 0) return false;
	doc.transact(() => {
		const meta = metaMap(doc);
		meta.set(META.schemaVersion, SCHEMA_VERSION);
		meta.set(META.language, seed.language ?? DEFAULT_LANGUAGE);
		if (seed.title) meta.set(META.title, seed.title);
		if (seed.code) codeText(doc).insert(0, normalizeLineEndings(seed.code));
	}, origin);
	return true;
}

/**
 * Bring an older document up to SCHEMA_VERSION (SPEC CS5). Version 0 (no version key)
 * only lacks the key itself. Migrations only add; they never rewrite text.
 */
export function migrateDocument(doc: Y.Doc, origin: unknown = SERVER_ORIGIN): void {
	const version = readSchemaVersion(doc);
	if (version >= SCHEMA_VERSION) return;
	doc.transact(() => metaMap(doc).set(META.schemaVersion, SCHEMA_VERSION), origin);
}

/** Encode the whole document as one Yjs update (binary, SPEC CS6). */
export function encodeDocument(doc: Y.Doc): Uint8Array {
	return Y.encodeStateAsUpdate(doc);
}

/** Build a document from stored binary state (SPEC CS6: never from text). */
export function decodeDocument(state: Uint8Array | null | undefined): Y.Doc {
	const doc = new Y.Doc();
	if (state && state.byteLength > 0) Y.applyUpdate(doc, state);
	return doc;
}
