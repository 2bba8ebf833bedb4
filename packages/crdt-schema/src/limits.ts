/**
 * Size limits of a session document (SPEC CS8-CS9, RELIABILITY 39, 43, 44), shared by the editor
 * (which refuses an oversized change before it is made) and the sync server (which refuses it on
 * every path: socket updates, REST, seeding). Characters are UTF-16 code units, as `Y.Text.length`
 * and CodeMirror count them; bytes are UTF-8 or encoded Yjs state.
 */

/**
 * Largest `code` text: 256 Ki characters. About 5,000 lines of long code, far above any interview or
 * exercise, and at most 768 KiB of UTF-8 (3 bytes per UTF-16 unit), so it fits MAX_DOCUMENT_BYTES and
 * one WebSocket frame (server default 2 MiB).
 */
export const MAX_CODE_CHARS = 256 * 1024;

/** Largest session title (characters), as POST /create-session has always accepted. */
export const MAX_TITLE_CHARS = 200;

/**
 * Most tests in a session, visible (in the document) and hidden (server only) together: the runner's
 * inputs per job (run-queue MAX_INPUTS_PER_JOB), since run-tests runs them all at once.
 */
export const MAX_TESTS_PER_SESSION = 100;

/** Most bytes of hidden tests (names, stdin, expected, UTF-8) per session: as much as a whole document. */
export const MAX_HIDDEN_TESTS_BYTES = 1024 * 1024;

/** Largest test name (characters). */
export const MAX_TEST_NAME_CHARS = 200;

/**
 * Largest `stdin` or `expected` of one test (UTF-8 bytes): 64 KiB. Judges' large inputs are
 * generated, not typed; the whole document must still fit MAX_DOCUMENT_BYTES.
 */
export const MAX_TEST_FIELD_BYTES = 64 * 1024;

/**
 * Largest encoded document (`Y.encodeStateAsUpdate`, bytes): 1 MiB. Code at its limit (768 KiB at
 * worst, 256 KiB as ASCII) plus tests and history fit; the whole state (a client's first sync step 2)
 * stays below the server's 2 MiB frame cap, so no legitimate update is larger than one frame. A Yjs
 * document in memory takes a small multiple of its encoded size, so this bounds server memory per
 * document; and every store writes the whole state (embedded PGlite took ~20 s of a loaded 2-core
 * machine's main thread for a 2.9 MB state, a few seconds for 1 MB).
 */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

/**
 * Most structs (items, GC and skip ranges) one update may carry. A whole document typed and edited by
 * hand has tens of thousands; 100,000 parse and integrate in tens of milliseconds. The root-type bomb
 * (RELIABILITY 43) needs one struct per root.
 */
export const MAX_STRUCTS_PER_UPDATE = 100_000;

/** Most delete ranges one update may carry (a whole document's deletions, as above). */
export const MAX_DELETE_RANGES_PER_UPDATE = 100_000;

/** Bytes a WebSocket frame needs beyond the update itself (message envelope: document name, types, length). */
export const UPDATE_ENVELOPE_BYTES = 1024;

/** UTF-8 length of a string in bytes, without allocating (lone surrogates count 3, as TextEncoder writes U+FFFD). */
export function utf8Length(text: string): number {
	let bytes = 0;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c < 0x80) bytes += 1;
		else if (c < 0x800) bytes += 2;
		else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
			const next = text.charCodeAt(i + 1);
			if (next >= 0xdc00 && next <= 0xdfff) {
				bytes += 4;
				i++;
			} else bytes += 3;
		} else bytes += 3;
	}
	return bytes;
}

/** Words for a refused code change, shown by the editor and sent by the server. */
export function codeTooLongMessage(chars: number): string {
	return `The code would be ${chars.toLocaleString("en")} characters; a session holds at most ${MAX_CODE_CHARS.toLocaleString("en")} characters (256 Ki). The change was not made.`;
}
