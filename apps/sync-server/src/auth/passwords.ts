import { type Algorithm, hash, verify } from "@node-rs/argon2";

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

// The most common leaked passwords of length >= 8 (a small list; the length rule covers the rest).
const COMMON_PASSWORDS = new Set([
	"password",
	"password1",
	"password123",
	"12345678",
	"123456789",
	"1234567890",
	"12345678910",
	"qwertyuiop",
	"qwerty123",
	"qwerty12",
	"1q2w3e4r",
	"1q2w3e4r5t",
	"iloveyou",
	"sunshine",
	"princess",
	"football",
	"baseball",
	"welcome1",
	"welcome123",
	"abc12345",
	"abcd1234",
	"11111111",
	"00000000",
	"88888888",
	"87654321",
	"superman",
	"trustno1",
	"letmein1",
	"passw0rd",
	"p@ssw0rd",
	"p@ssword",
	"admin123",
	"administrator",
	"changeme",
	"starwars",
	"whatever",
	"dragon123",
	"monkey123",
	"asdfghjkl",
	"zxcvbnm1",
	"computer",
	"michelle",
	"jennifer",
	"internet",
	"corvette",
	"mercedes",
	"1qaz2wsx",
	"qazwsxedc",
	"aaaaaaaa",
	"password!",
	"tandem123",
	"secret123",
	"letmein123",
	"iloveyou1",
	"football1",
]);

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
	if (password.length < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters`;
	if (password.length > MAX_PASSWORD_LENGTH) return `password must be at most ${MAX_PASSWORD_LENGTH} characters`;
	if (COMMON_PASSWORDS.has(password.toLowerCase())) return "password is too common; choose another";
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
