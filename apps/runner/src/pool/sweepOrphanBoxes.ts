import { existsSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import path from "node:path";
import { RUN_CGROUP_PREFIX } from "../sandbox/runCgroup.ts";

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

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (e: unknown) {
		return (e as NodeJS.ErrnoException).code === "EPERM";
	}
}

/**
 * Removes the boxes of runners that died without cleaning up (SIGKILL, OOM kill): kills every
 * process left in their per-run cgroups and removes the cgroups. A runner's own wall-clock timer
 * dies with it, so without this an orphaned box could run (or hang) forever. Returns how many
 * cgroups were removed. Boxes of live runners are never touched.
 */
export async function sweepOrphanBoxes(): Promise<number> {
	const own = `${RUN_CGROUP_PREFIX}${process.pid}-`;
	let removed = 0;
	for (const base of cgroupBases()) {
		let entries: string[];
		try {
			entries = readdirSync(base);
		} catch {
			continue;
		}
		for (const entry of entries) {
			if (!entry.startsWith(RUN_CGROUP_PREFIX) || entry.startsWith(own)) continue;
			const pid = Number(/^(\d+)-/.exec(entry.slice(RUN_CGROUP_PREFIX.length))?.[1]);
			if (!Number.isSafeInteger(pid) || isAlive(pid)) continue;
			const dir = path.join(base, entry);
			for (let attempt = 0; attempt < RMDIR_ATTEMPTS; attempt++) {
				try {
					for (const p of readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n")) {
						if (p) process.kill(Number(p), "SIGKILL");
					}
				} catch {
					// Gone already, or the process exited between reading and killing.
				}
				try {
					rmdirSync(dir);
					removed++;
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
