import { type Algorithm, hash, verify } from "@node-rs/argon2";
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";

// Algorithm is an ambient const enum (not importable as a value under verbatimModuleSyntax); 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

/**
 * argon2id parameters (RELIABILITY 25): OWASP's minimum of 19 MiB and 2 passes,
 * one lane. The salt is random per hash (the library's default).
 */
export const ARGON2_OPTIONS = Object.freeze({
	algorithm: ARGON2ID,
	memoryCost: 19_456,
	timeCost: 2,
	parallelism: 1,
});

export const MIN_PASSWORD_LENGTH = 8;
/** Long passphrases are welcome; the cap only bounds hashing work per request. */
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * Lowest zxcvbn score a new password may have (RELIABILITY 25, 50). zxcvbn-ts with its common
 * dictionary (leaked passwords, keyboard walks, repeats, sequences, dates) estimates guesses; score 2
 * means at least 10^6, out of reach of throttled online guessing (10 tries per account+address per
 * 15 minutes), and refuses `qwertyui`, `123123123`, eight spaces and the like.
 */
export const MIN_PASSWORD_SCORE = 2;

let estimator: ZxcvbnFactory | undefined;
// Built on first use: loading the dictionaries costs about 100 ms.
const strength = () => (estimator ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs }));

/**
 * Why a new password is refused, or null when it is acceptable. `context` (the username, the email)
 * counts as known to an attacker: a password built from it is weaker.
 */
export function passwordProblem(password: string, context: readonly string[] = []): string | null {
	if (password.length < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters`;
	if (password.length > MAX_PASSWORD_LENGTH) return `password must be at most ${MAX_PASSWORD_LENGTH} characters`;
	const inputs = [...context, "tandem"];
	if (strength().check(password, inputs).score < MIN_PASSWORD_SCORE) {
		return "password is too common or too easy to guess (a keyboard pattern, a repeat, a well-known password or your name); choose a longer or less predictable one";
	}
	return null;
}

export function hashPassword(password: string): Promise<string> {
	return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
	try {
		return await verify(passwordHash, password);
	} catch {
		return false;
	}
}

let dummyHash: Promise<string> | undefined;
/**
 * Verify against a fixed hash with the same parameters, so an unknown user costs
 * the same time as a wrong password (RELIABILITY 26).
 */
export async function verifyDummy(password: string): Promise<false> {
	dummyHash ??= hashPassword("dummy-password-for-timing-equality");
	await verifyPassword(await dummyHash, password);
	return false;
}
