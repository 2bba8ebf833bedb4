import { existsSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import path from "node:path";
import { isProcessAlive, RUN_CGROUP_PREFIX } from "../sandbox/runCgroup.ts";

const CGROUP_ROOT = "/sys/fs/cgroup";
// A cgroup whose last process was just killed refuses rmdir (EBUSY) for a moment.
const RMDIR_ATTEMPTS = 20;
const RMDIR_PAUSE_MS = 50;

/** Where this process's per-run cgroups live: one base per v1 controller, or the v2 unified one. */
function cgroupBases(): string[] {
	const own = new Map<string, string>();
	for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
		const m = /^\d+:([^:]*):(.*)$/.exec(line);
		if (!m) continue;
		for (const c of (m[1] ?? "").split(",")) own.set(c, m[2] ?? "/");
	}
	if (existsSync(path.join(CGROUP_ROOT, "cgroup.controllers"))) return [path.join(CGROUP_ROOT, own.get("") ?? "/")];
	return ["memory", "pids", "freezer", "cpuacct"]
		.map((c) => path.join(CGROUP_ROOT, c, own.get(c) ?? "/"))
		.filter((dir) => existsSync(dir));
}

/** SIGKILLs every process in the cgroup; returns how many it found. */
function killProcsOf(dir: string): number {
	let found = 0;
	try {
		for (const p of readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n")) {
			if (!p) continue;
			found++;
			try {
				process.kill(Number(p), "SIGKILL");
			} catch {
				// Exited between reading and killing.
			}
		}
	} catch {
		// Gone already.
	}
	return found;
}

/**
 * Kills every process in this runner's own boxes, synchronously: for a runner about to exit with
 * jobs unfinished, so that no box outlives it and no half-run verdict is reported before it exits.
 * The empty cgroups are removed by the next runner's {@link sweepOrphanBoxes}.
 */
export function killOwnBoxes(): number {
	const own = `${RUN_CGROUP_PREFIX}${process.pid}-`;
	let found = 0;
	for (const base of cgroupBases()) {
		try {
			for (const entry of readdirSync(base)) if (entry.startsWith(own)) found += killProcsOf(path.join(base, entry));
		} catch {
			// Hierarchy vanished.
		}
	}
	return found;
}

/**
 * Kills this runner's boxes until none holds a process (a box being set up can fork after its
 * cgroup was read, so one pass is not enough), for at most `deadlineMs`. Returns true when empty.
 */
export async function drainOwnBoxes(deadlineMs: number): Promise<boolean> {
	const until = Date.now() + deadlineMs;
	while (killOwnBoxes() > 0) {
		if (Date.now() > until) return false;
		await new Promise((r) => setTimeout(r, 20));
	}
	return true;
}

/**
 * Removes the boxes of runners that died without cleaning up (SIGKILL, OOM kill): kills every
 * process left in their per-run cgroups and removes the cgroups. A runner's own wall-clock timer
 * dies with it, so without this an orphaned box could run (or hang) forever. Boxes of live runners
 * are never touched. Returns how many cgroups were removed.
 */
export async function sweepOrphanBoxes(): Promise<number> {
	const own = `${RUN_CGROUP_PREFIX}${process.pid}-`;
	const bases = cgroupBases();
	// Candidates come from the first hierarchy only (v1: memory, usually nested under this
	// runner's own group; v2: the unified one), so boxes of unrelated groups sharing a flat
	// controller (v1 pids at the root) are never taken for ours.
	const primary = bases[0];
	if (!primary) return 0;
	let entries: string[];
	try {
		entries = readdirSync(primary);
	} catch {
		return 0;
	}
	let removed = 0;
	for (const entry of entries) {
		if (!entry.startsWith(RUN_CGROUP_PREFIX) || entry.startsWith(own)) continue;
		const pid = Number(/^(\d+)-/.exec(entry.slice(RUN_CGROUP_PREFIX.length))?.[1]);
		if (!Number.isSafeInteger(pid) || isProcessAlive(pid)) continue;
		for (const base of bases) {
			const dir = path.join(base, entry);
			for (let attempt = 0; attempt < RMDIR_ATTEMPTS; attempt++) {
				killProcsOf(dir);
				try {
					rmdirSync(dir);
					if (base === primary) removed++;
					break;
				} catch (e: unknown) {
					if ((e as NodeJS.ErrnoException).code === "ENOENT") break;
					await new Promise((r) => setTimeout(r, RMDIR_PAUSE_MS));
				}
			}
		}
	}
	return removed;
}
