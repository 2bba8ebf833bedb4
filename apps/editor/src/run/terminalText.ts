/** Control characters a terminal would not print as themselves: C0 but tab and LF, and DEL. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
// Unicode's "Control Pictures" block: U+2400 + the code for C0, U+2421 for DEL.
const CONTROL_PICTURES_START = 0x2400;
const DEL_PICTURE = "\u2421";

/**
 * Run output as a terminal shows it (RELIABILITY 37): a lone "\r" returns to the start of
 * the line and what follows replaces the line, so `progress 0%\rprogress 25%\rdone` reads
 * `done` (a carriage return with nothing after it on its line changes nothing, as
 * `text\r\n` shows `text`). CRLF is one line break. Other control characters, U+0000
 * included, show as their Control Pictures symbol (␀) instead of vanishing. The raw text
 * stays as it is everywhere else (API, stored results); this is display only.
 */
export function terminalText(raw: string): string {
	const lines = raw.split("\n").map((line) => {
		if (!line.includes("\r")) return line;
		const parts = line.split("\r");
		for (let i = parts.length - 1; i >= 0; i--) {
			if (parts[i] !== "") return parts[i] as string;
		}
		return "";
	});
	return lines.join("\n").replace(CONTROL, (c) => {
		const code = c.charCodeAt(0);
		return code === 0x7f ? DEL_PICTURE : String.fromCharCode(CONTROL_PICTURES_START + code);
	});
}
