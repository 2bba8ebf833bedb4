import { customAlphabet } from "nanoid";

/** 22 url-safe characters: 132 bits from a CSPRNG (RELIABILITY 29 asks for >= 128). */
export const SESSION_ID_LENGTH = 22;
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";
const generate = customAlphabet(ALPHABET, SESSION_ID_LENGTH);

/** Ids a client may choose (offline-created sessions): 21 (nanoid default) to 64 url-safe characters. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{21,64}$/;

export function newSessionId(): string {
	return generate();
}

/** Checked before any SQL or Redis key is built from a document name (RELIABILITY 18). */
export function isSessionId(value: unknown): value is string {
	return typeof value === "string" && SESSION_ID_PATTERN.test(value);
}
