import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { BoxLimits } from "./limits.ts";

/**
 * Per-run cgroups: memory (+swap) and pids limits, a whole-tree kill, OOM detection, CPU time and
 * peak memory. bubblewrap sets no resource limit itself; these come from here (RELIABILITY 1, 2, 3, 10).
 */
export interface RunCgroup {
	/** The `cgroup.procs` files the wrapper writes its pid into before exec'ing bwrap. */
	readonly procsFiles: readonly string[];
	/** Pids currently in the cgroup. */
	pids(): number[];
	/** Kill every process in the cgroup (frozen first where a freezer exists, so nothing forks away). */
	killAll(): void;
	/**
	 * True when the kernel counted the tree at its memory limit: an OOM kill (v1 `memory.oom_control`
	 * oom_kill, v2 `memory.events` oom_kill), a task waiting in OOM (v1 under_oom), a failed charge
	 * (v1 `failcnt`, v2 `memory.events` max), or a peak within {@link MEMORY_LIMIT_SLACK_BYTES} of the
	 * limit. Read from the cgroup, never guessed from time (RELIABILITY 2).
	 */
	memoryLimitHit(): boolean;
	/** Peak memory of the run, KiB. */
	peakKb(): number | undefined;
	/** CPU time used by the whole tree, milliseconds. */
	cpuMs(): number | undefined;
	/** Kill what is left, wait until empty, remove the directories. */
	destroy(): Promise<void>;
}

interface CgroupLayout {
	readonly version: 1 | 2;
	/** v1: controller → the runner's own directory in that hierarchy; v2: "unified" → own directory. */
	readonly bases: Readonly<Record<string, string>>;
}

const CGROUP_ROOT = "/sys/fs/cgroup";
/** How long removal keeps killing and retrying before it reports a cgroup it could not remove. */
const DRAIN_DEADLINE_MS = 15_000;
/** Per-run cgroup directory names start with this, then the runner's pid. */
export const RUN_CGROUP_PREFIX = "tandem-box-";
/**
 * A peak this close to the memory limit counts as reaching it: the kernel charges a fault's pages at
 * once and refuses the charge that would pass the limit, so a tree stuck in reclaim at its limit can
 * peak up to one charge below it (a 2 MiB transparent huge page at most).
 */
export const MEMORY_LIMIT_SLACK_BYTES = 2 * 1024 * 1024;

function ownPaths(): Map<string, string> {
	const out = new Map<string, string>();
	for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
		const m = /^(\d+):([^:]*):(.*)$/.exec(line);
		if (!m) continue;
		const controllers = m[2] ?? "";
		const p = m[3] ?? "/";
		if (controllers === "") out.set("unified", p);
		for (const c of controllers.split(",")) if (c) out.set(c, p);
	}
	return out;
}

function detect(): CgroupLayout {
	const own = ownPaths();
	if (existsSync(path.join(CGROUP_ROOT, "cgroup.controllers"))) {
		const base = path.join(CGROUP_ROOT, own.get("unified") ?? "/");
		const enabled = readFileSync(path.join(base, "cgroup.subtree_control"), "utf8").split(/\s+/);
		for (const needed of ["memory", "pids"]) {
			if (!enabled.includes(needed)) writeFileSync(path.join(base, "cgroup.subtree_control"), `+${needed}`);
		}
		return { version: 2, bases: { unified: base } };
	}
	const bases: Record<string, string> = {};
	for (const c of ["memory", "pids", "freezer", "cpuacct"]) {
		const dir = path.join(CGROUP_ROOT, c);
		if (!existsSync(path.join(dir, "cgroup.procs"))) {
			if (c === "freezer" || c === "cpuacct") continue;
			throw new Error(`cgroup v1 controller "${c}" is not mounted at ${dir}`);
		}
		bases[c] = path.join(dir, own.get(c) ?? "/");
	}
	return { version: 1, bases };
}

let layout: CgroupLayout | undefined;
let counter = 0;

/**
 * Detect the cgroup layout and prove a per-run cgroup can be created and removed.
 * Throws a clear error when it cannot: the runner must refuse to run code without limits.
 */
export async function initCgroups(): Promise<void> {
	if (layout) return;
	try {
		layout = detect();
		await sweepStaleRunCgroups(layout);
		const probe = createRunCgroup("probe", { memoryBytes: 64 * 1024 * 1024, pids: 8 });
		await probe.destroy();
	} catch (e: unknown) {
		layout = undefined;
		throw new Error(
			`runner: cannot create per-run cgroups, refusing to run code without resource limits: ${e instanceof Error ? e.message : String(e)}`,
			{ cause: e },
		);
	}
}

/** True while a process with this pid exists (EPERM: it exists but is not ours). */
export function isProcessAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (e: unknown) {
		return (e as NodeJS.ErrnoException).code === "EPERM";
	}
}

/** Remove per-run cgroups left by runners that died (their boxes died with them: --die-with-parent). */
async function sweepStaleRunCgroups(l: CgroupLayout): Promise<void> {
	for (const base of Object.values(l.bases)) {
		let entries: string[];
		try {
			entries = readdirSync(base);
		} catch {
			continue;
		}
		for (const entry of entries) {
			const m = new RegExp(`^${RUN_CGROUP_PREFIX}(\\d+)-`).exec(entry);
			if (!m || isProcessAlive(Number(m[1]))) continue;
			const dir = path.join(base, entry);
			const procs = () => readProcs(path.join(dir, "cgroup.procs"));
			await drainAndRemove(procs, () => killPids(procs()), [dir]).catch(() => {});
		}
	}
}

/** Which cgroup version is in use (after {@link initCgroups}). */
export function cgroupVersion(): 1 | 2 | undefined {
	return layout?.version;
}

/** Every per-run cgroup directory of this process that exists now (tests assert none is left). */
export function liveRunCgroups(): string[] {
	if (!layout) return [];
	const mine = `${RUN_CGROUP_PREFIX}${process.pid}-`;
	const out: string[] = [];
	for (const base of Object.values(layout.bases)) {
		try {
			for (const entry of readdirSync(base)) if (entry.startsWith(mine)) out.push(path.join(base, entry));
		} catch {
			// Hierarchy vanished.
		}
	}
	return out;
}

function readNumber(file: string): number | undefined {
	try {
		const n = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
		return Number.isFinite(n) ? n : undefined;
	} catch {
		return undefined;
	}
}

function readProcs(file: string): number[] {
	try {
		return readFileSync(file, "utf8")
			.split("\n")
			.filter((l) => l.trim() !== "")
			.map((l) => Number.parseInt(l, 10))
			.filter((n) => Number.isSafeInteger(n) && n > 0);
	} catch {
		return [];
	}
}

function killPids(pids: readonly number[]): void {
	for (const pid of pids) {
		try {
			process.kill(pid, "SIGKILL");
		} catch {
			// Already gone.
		}
	}
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Create the cgroup for one box with the memory and pids limits set. */
export function createRunCgroup(tag: string, limits: Pick<BoxLimits, "memoryBytes" | "pids">): RunCgroup {
	if (!layout) throw new Error("runner: cgroups not initialised (call initCgroups first)");
	const name = `${RUN_CGROUP_PREFIX}${process.pid}-${tag.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40)}-${++counter}`;
	return layout.version === 2 ? createV2(layout, name, limits) : createV1(layout, name, limits);
}

function createV1(l: CgroupLayout, name: string, limits: Pick<BoxLimits, "memoryBytes" | "pids">): RunCgroup {
	const dirs: Record<string, string> = {};
	const created: string[] = [];
	try {
		for (const [c, base] of Object.entries(l.bases)) {
			const dir = path.join(base, name);
			mkdirSync(dir);
			created.push(dir);
			dirs[c] = dir;
		}
		const mem = dirs.memory as string;
		writeFileSync(path.join(mem, "memory.limit_in_bytes"), String(limits.memoryBytes));
		// memsw must be >= the memory limit, so it is written second; equal means no swap at all.
		if (existsSync(path.join(mem, "memory.memsw.limit_in_bytes"))) {
			writeFileSync(path.join(mem, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes));
		}
		writeFileSync(path.join(dirs.pids as string, "pids.max"), String(limits.pids));
	} catch (e: unknown) {
		for (const d of created.reverse()) {
			try {
				rmdirSync(d);
			} catch {
				// Best effort on a half-created cgroup.
			}
		}
		throw e;
	}
	const procsOf = (c: string) => path.join(dirs[c] as string, "cgroup.procs");
	const freezer = dirs.freezer;
	const allPids = () => {
		const set = new Set<number>();
		for (const c of Object.keys(dirs)) for (const p of readProcs(procsOf(c))) set.add(p);
		return [...set];
	};
	const killAll = () => {
		const pids = allPids();
		if (pids.length === 0) return;
		if (freezer) {
			try {
				writeFileSync(path.join(freezer, "freezer.state"), "FROZEN");
			} catch {
				// Kill without freezing.
			}
		}
		killPids(freezer ? allPids() : pids);
		if (freezer) {
			try {
				writeFileSync(path.join(freezer, "freezer.state"), "THAWED");
			} catch {
				// Nothing to thaw.
			}
		}
	};
	return {
		procsFiles: Object.keys(dirs).map(procsOf),
		pids: allPids,
		killAll,
		memoryLimitHit() {
			const mem = dirs.memory as string;
			try {
				const control = readFileSync(path.join(mem, "memory.oom_control"), "utf8");
				if (/^oom_kill [1-9]/m.test(control) || /^under_oom 1/m.test(control)) return true;
			} catch {
				// Fall through to the charge counters.
			}
			if (
				(readNumber(path.join(mem, "memory.memsw.failcnt")) ?? 0) > 0 ||
				(readNumber(path.join(mem, "memory.failcnt")) ?? 0) > 0
			) {
				return true;
			}
			const peak = Math.max(
				readNumber(path.join(mem, "memory.max_usage_in_bytes")) ?? 0,
				readNumber(path.join(mem, "memory.memsw.max_usage_in_bytes")) ?? 0,
			);
			return peak >= limits.memoryBytes - MEMORY_LIMIT_SLACK_BYTES;
		},
		peakKb() {
			const peak = readNumber(path.join(dirs.memory as string, "memory.max_usage_in_bytes"));
			return peak === undefined ? undefined : Math.round(peak / 1024);
		},
		cpuMs() {
			const ns = dirs.cpuacct ? readNumber(path.join(dirs.cpuacct, "cpuacct.usage")) : undefined;
			return ns === undefined ? undefined : Math.round(ns / 1e6);
		},
		async destroy() {
			await drainAndRemove(allPids, killAll, Object.values(dirs));
		},
	};
}

function createV2(l: CgroupLayout, name: string, limits: Pick<BoxLimits, "memoryBytes" | "pids">): RunCgroup {
	const dir = path.join(l.bases.unified as string, name);
	mkdirSync(dir);
	try {
		writeFileSync(path.join(dir, "memory.max"), String(limits.memoryBytes));
		if (existsSync(path.join(dir, "memory.swap.max"))) writeFileSync(path.join(dir, "memory.swap.max"), "0");
		writeFileSync(path.join(dir, "pids.max"), String(limits.pids));
	} catch (e: unknown) {
		rmdirSync(dir);
		throw e;
	}
	const procs = path.join(dir, "cgroup.procs");
	const killAll = () => {
		try {
			writeFileSync(path.join(dir, "cgroup.kill"), "1");
		} catch {
			killPids(readProcs(procs));
		}
	};
	return {
		procsFiles: [procs],
		pids: () => readProcs(procs),
		killAll,
		memoryLimitHit() {
			try {
				if (/^(oom_kill|max) [1-9]/m.test(readFileSync(path.join(dir, "memory.events"), "utf8"))) return true;
			} catch {
				// Fall through to the peak.
			}
			return (readNumber(path.join(dir, "memory.peak")) ?? 0) >= limits.memoryBytes - MEMORY_LIMIT_SLACK_BYTES;
		},
		peakKb() {
			const peak = readNumber(path.join(dir, "memory.peak"));
			return peak === undefined ? undefined : Math.round(peak / 1024);
		},
		cpuMs() {
			try {
				const m = /usage_usec (\d+)/.exec(readFileSync(path.join(dir, "cpu.stat"), "utf8"));
				return m ? Math.round(Number(m[1]) / 1000) : undefined;
			} catch {
				return undefined;
			}
		},
		async destroy() {
			await drainAndRemove(() => readProcs(procs), killAll, [dir]);
		},
	};
}

async function drainAndRemove(pids: () => number[], killAll: () => void, dirs: readonly string[]): Promise<void> {
	// Killed tasks leave the cgroup asynchronously, and rmdir fails (EBUSY) while any remain; on a loaded
	// machine that can take seconds. Kill, wait, and retry the removal until a bounded deadline.
	const deadline = performance.now() + DRAIN_DEADLINE_MS;
	let remaining = [...dirs];
	let lastError: unknown;
	for (let attempt = 0; remaining.length > 0; attempt++) {
		if (pids().length > 0) {
			killAll();
		} else {
			remaining = remaining.filter((d) => {
				try {
					rmdirSync(d);
					return false;
				} catch (e: unknown) {
					if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
					lastError = e;
					return true;
				}
			});
			if (remaining.length === 0) return;
		}
		if (performance.now() > deadline) break;
		await sleep(attempt < 10 ? 2 : 20);
	}
	if (remaining.length > 0) {
		throw new Error(`runner: could not remove cgroup: ${String(lastError ?? `tasks left in ${remaining.join(", ")}`)}`);
	}
}
