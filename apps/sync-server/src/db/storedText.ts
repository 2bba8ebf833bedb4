import { customType } from "drizzle-orm/pg-core";

/**
 * Postgres `text` cannot hold U+0000 (the server refuses the whole statement), yet any
 * Unicode string is valid text in Tandem (RELIABILITY 37, decision 042). Columns holding
 * what people type or programs print keep text in a reversible escape: U+0010 (DATA LINK
 * ESCAPE) starts a two-character escape, "\u0010" + "0" for U+0000 and "\u0010\u0010" for
 * U+0010 itself. Every other string is stored unchanged, so ordinary rows read the same in
 * psql and equality on the column (drizzle escapes the compared value too) still works.
 * Migration 0002 escaped the U+0010 characters already stored.
 */
export const STORED_TEXT_ESCAPE = "\u0010";

const NEEDS_ESCAPE = /[\u0000\u0010]/;
const ESCAPABLE = /[\u0000\u0010]/g;
const ESCAPED = /\u0010([0\u0010])/g;

/** A string as a `storedText` column keeps it (see STORED_TEXT_ESCAPE). */
export function escapeStoredText(value: string): string {
	if (!NEEDS_ESCAPE.test(value)) return value;
	return value.replace(ESCAPABLE, (c) => (c === "\u0000" ? `${STORED_TEXT_ESCAPE}0` : STORED_TEXT_ESCAPE.repeat(2)));
}

/** The string a `storedText` column value stands for; the inverse of escapeStoredText. */
export function unescapeStoredText(stored: string): string {
	if (!stored.includes(STORED_TEXT_ESCAPE)) return stored;
	return stored.replace(ESCAPED, (_, c: string) => (c === "0" ? "\u0000" : STORED_TEXT_ESCAPE));
}

/** A Postgres `text` column that holds any string, U+0000 included (see STORED_TEXT_ESCAPE). */
export const storedText = customType<{ data: string; driverData: string }>({
	dataType: () => "text",
	toDriver: escapeStoredText,
	fromDriver: unescapeStoredText,
});
