import { readdirSync, readFileSync } from "node:fs";

// /proc reports CPU time in clock ticks; Linux uses USER_HZ = 100 on every mainstream architecture.
const CLOCK_TICKS_PER_SECOND = 100;
const MICROS_PER_TICK = 1_000_000 / CLOCK_TICKS_PER_SECOND;

/** CPU time (user + system) and resident memory of a process, read from /proc. */
export interface ProcessSample {
	readonly cpuMicros: number;
	readonly rssBytes: number;
}

/** Sample /proc/<pid>/stat (utime, stime) and /proc/<pid>/status (VmRSS). */
export function sampleProcess(pid: number): ProcessSample {
	const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
	// The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
	const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
	const utime = Number(fields[11]);
	const stime = Number(fields[12]);
	const status = readFileSync(`/proc/${pid}/status`, "utf8");
	const rssKb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
	return { cpuMicros: (utime + stime) * MICROS_PER_TICK, rssBytes: rssKb * 1024 };
}

/** Number of open file descriptors of a process. */
export function openFds(pid: number): number {
	return readdirSync(`/proc/${pid}/fd`).length;
}

/** The soft and hard open-file limits of a process. */
export function fdLimits(pid: number): { soft: number; hard: number } {
	const limits = readFileSync(`/proc/${pid}/limits`, "utf8");
	const match = /Max open files\s+(\d+)\s+(\d+)/.exec(limits);
	return { soft: Number(match?.[1]), hard: Number(match?.[2]) };
}
