/**
 * Size bounds of what the server answers, stores and broadcasts for a run (RELIABILITY 48).
 * The runner caps each stream of one execution (1 MiB by default, configurable there); these
 * bounds hold whatever the runner sends, so one run's answer and row stay small: 20 tests
 * printing 1 MiB each once made a 63 MB answer.
 */

/** Each of a plain run's `output` and `error`, in UTF-8 bytes: the runner's default stream cap. */
export const MAX_RUN_FIELD_BYTES = 1024 * 1024;
/** Each text field of one test's result (`output`, `expected`, `error`, `diff`), in UTF-8 bytes. */
export const MAX_TEST_FIELD_BYTES = 64 * 1024;
/** All text fields of one test run's results together, in UTF-8 bytes. */
export const MAX_TEST_REPORT_BYTES = 1024 * 1024;

/** What a cut result says about itself (TestReport.note). */
export const TEST_REPORT_CUT_NOTE =
	`Some output was cut: a test shows at most ${MAX_TEST_FIELD_BYTES / 1024} KiB of each of output, expected, ` +
	`errors and diff, and a test run at most ${MAX_TEST_REPORT_BYTES / 1024 / 1024} MiB in all`;

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes at a character boundary; `cut` says whether
 * anything was removed.
 */
export function cutText(text: string, maxBytes: number): { text: string; bytes: number; cut: boolean } {
	// Most outputs are short: at most 3 UTF-8 bytes per UTF-16 unit, so a third of the bound always fits.
	if (text.length * 3 <= maxBytes) return { text, bytes: Buffer.byteLength(text, "utf8"), cut: false };
	const bytes = Buffer.from(text, "utf8");
	if (bytes.length <= maxBytes) return { text, bytes: bytes.length, cut: false };
	let end = Math.max(0, maxBytes);
	// Step back over continuation bytes so a character is never split.
	while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
	return { text: bytes.subarray(0, end).toString("utf8"), bytes: end, cut: true };
}

/**
 * A byte budget shared by several fields: each take() gets at most `perField` bytes and at most
 * what is left of `total`.
 */
export class TextBudget {
	private left: number;
	private readonly perField: number;
	/** True once any field was cut. */
	cut = false;

	constructor(total: number, perField: number) {
		this.left = total;
		this.perField = perField;
	}

	take(text: string): string {
		const r = cutText(text, Math.min(this.perField, this.left));
		this.left -= r.bytes;
		if (r.cut) this.cut = true;
		return r.text;
	}
}
