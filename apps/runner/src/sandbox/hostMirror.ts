import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/** Where toolchains the box user cannot reach (under /root, mode 0700) are bind-mounted read-only by root. */
export const MIRROR_DIR = "/run/tandem-runner/mirror";

const mirrored = new Map<string, string>();

/** True when every directory above `p` lets "others" search it, so the unprivileged box user can open `p`. */
function traversableByOthers(p: string): boolean {
	for (let dir = path.dirname(p); ; dir = path.dirname(dir)) {
		try {
			if ((statSync(dir).mode & 0o001) === 0) return false;
		} catch {
			return false;
		}
		if (dir === "/") return true;
	}
}

function isMountPoint(p: string): boolean {
	// Field 5 of mountinfo is the mount point (spaces escaped as \040, which our names never contain).
	return readFileSync("/proc/self/mountinfo", "utf8")
		.split("\n")
		.some((line) => line.split(" ")[4] === p);
}

/**
 * A host path the box user (uid 65534 on the host, bwrap unprivileged) can bind: `src` itself when it is
 * reachable, otherwise a read-only bind mount of it under {@link MIRROR_DIR}, made once per host by root.
 */
export function reachableSource(src: string): string {
	const known = mirrored.get(src);
	if (known) return known;
	if (traversableByOthers(src)) {
		mirrored.set(src, src);
		return src;
	}
	const target = path.join(MIRROR_DIR, src.replace(/[^A-Za-z0-9._-]+/g, "_"));
	if (!isMountPoint(target)) {
		mkdirSync(target, { recursive: true, mode: 0o755 });
		for (let dir = target; dir !== "/run"; dir = path.dirname(dir)) chmodSync(dir, 0o755);
		try {
			execFileSync("/bin/mount", ["--bind", "-o", "ro", src, target], { stdio: ["ignore", "ignore", "pipe"] });
		} catch (e: unknown) {
			// A parallel runner may have mounted it first; anything else is a runner that cannot isolate.
			if (!isMountPoint(target)) throw new Error(`cannot mirror ${src} for the box user`, { cause: e });
		}
	}
	mirrored.set(src, target);
	return target;
}
