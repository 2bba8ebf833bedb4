import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";

/** Mode of DATA_DIR and every folder in it: the server's user only (RELIABILITY 49). */
export const PRIVATE_DIR_MODE = 0o700;
/** Largest mode a file in DATA_DIR keeps: read and write (and execute, if it had it) for the owner only. */
export const PRIVATE_FILE_MODE_MASK = 0o700;
/**
 * The process umask `serve` sets, so files made later (PGlite's write-ahead log, new relations) are
 * born private too: PGlite's file system layer creates them 0666 minus the umask.
 */
export const PRIVATE_UMASK = 0o077;

/**
 * Make `dir` (created if missing) and everything under it private to this user: folders 0700, files
 * stripped of group and other bits. Fixes data written by earlier versions, which left the token
 * secret and password hashes world-readable. Symbolic links are not followed.
 */
export function makeDataDirPrivate(dir: string): void {
	mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
	const walk = (current: string) => {
		const stat = lstatSync(current);
		if (stat.isSymbolicLink()) return;
		if (stat.isDirectory()) {
			if ((stat.mode & 0o777) !== PRIVATE_DIR_MODE) chmodSync(current, PRIVATE_DIR_MODE);
			for (const name of readdirSync(current)) walk(path.join(current, name));
			return;
		}
		if ((stat.mode & 0o077) !== 0) chmodSync(current, stat.mode & PRIVATE_FILE_MODE_MASK);
	};
	walk(dir);
}
