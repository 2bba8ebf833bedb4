/**
 * The CONTRACT match rule: trailing whitespace is dropped from every line and from the end,
 * and Windows line ends count as Unix ones. Leading and inner whitespace still matter.
 */
export function normalizeOutput(text: string): string {
	return text
		.replace(/\r\n?/g, "\n")
		.split("\n")
		.map((line) => line.replace(/\s+$/u, ""))
		.join("\n")
		.replace(/\s+$/u, "");
}

/** Whether a program's output matches the expected output under the whitespace rule. */
export function outputsMatch(actual: string, expected: string): boolean {
	return normalizeOutput(actual) === normalizeOutput(expected);
}

/** Lines shown in a diff before it is cut short. */
const MAX_DIFF_LINES = 50;

/**
 * A line diff of expected against actual (after normalizing): unchanged lines start with
 * two spaces, expected-only lines with "- ", actual-only lines with "+ ". Line-by-line, not
 * a minimal edit script: enough to see where the output first goes wrong.
 */
export function diffOutputs(expected: string, actual: string): string {
	const want = normalizeOutput(expected).split("\n");
	const got = normalizeOutput(actual).split("\n");
	const out: string[] = [];
	for (let i = 0; i < Math.max(want.length, got.length) && out.length < MAX_DIFF_LINES; i++) {
		const w = want[i];
		const g = got[i];
		if (w === g) out.push(`  ${w}`);
		else {
			if (w !== undefined) out.push(`- ${w}`);
			if (g !== undefined) out.push(`+ ${g}`);
		}
	}
	if (Math.max(want.length, got.length) > MAX_DIFF_LINES) out.push("  …");
	return out.join("\n");
}
