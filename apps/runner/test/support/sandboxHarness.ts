import { readdirSync, readFileSync } from "node:fs";
import type { RunJob, RunResult } from "@tandem/run-queue";
import { closeWarmBoxes, settleSandbox } from "../../src/sandbox/box.ts";
import { executeJob } from "../../src/sandbox/executeJob.ts";
import type { BoxLimits, Limits } from "../../src/sandbox/limits.ts";
import { liveRunCgroups } from "../../src/sandbox/runCgroup.ts";

const MiB = 1024 * 1024;

/** Small limits so hostile tests end fast on two shared cores. */
export const TEST_RUN_LIMITS: BoxLimits = Object.freeze({
	cpuSeconds: 1,
	wallMs: 3_000,
	memoryBytes: 96 * MiB,
	pids: 32,
	outputBytes: 64 * 1024,
	fileSizeBytes: 8 * MiB,
	openFiles: 64,
	tmpfsBytes: 48 * MiB,
});

export const TEST_LIMITS: Limits = Object.freeze({
	run: TEST_RUN_LIMITS,
	compile: Object.freeze({
		...TEST_RUN_LIMITS,
		cpuSeconds: 20,
		wallMs: 30_000,
		memoryBytes: 768 * MiB,
		pids: 64,
		tmpfsBytes: 128 * MiB,
	}),
});

/**
 * TEST_LIMITS with a wall clock that never binds first on a loaded host (the CI machine runs at load
 * 5+ on two cores): verdicts then come only from what the kernel counted (cgroup CPU time, memory
 * charge and OOM kills, the pids limit, the output cap), so tests of those limits are deterministic.
 */
export const KERNEL_COUNTED_LIMITS: Limits = Object.freeze({
	...TEST_LIMITS,
	run: Object.freeze({ ...TEST_RUN_LIMITS, wallMs: 120_000 }),
});

let seq = 0;

/** Run code with the given stdins (one input each) under {@link TEST_LIMITS}. */
export function run(
	language: string,
	code: string,
	stdins: readonly string[] = [""],
	limits: Limits = TEST_LIMITS,
): Promise<RunResult> {
	const job: RunJob = {
		id: `t${process.pid}-${++seq}`,
		sessionId: "sandbox-test",
		language,
		code,
		inputs: stdins.map((stdin, i) => ({ id: String(i + 1), stdin })),
		submittedAt: new Date().toISOString(),
	};
	return executeJob(job, limits);
}

/** Waits until every used box's cgroup is removed (runs return before that), then lists {@link hostProcessesWith}. */
export async function settledHostProcessesWith(marker: string): Promise<number[]> {
	await settleSandbox();
	return hostProcessesWith(marker);
}

/** Host processes whose command line contains `marker` (a box process that outlived its run would). */
export function hostProcessesWith(marker: string): number[] {
	const found: number[] = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
		try {
			const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
			if (cmd.includes(marker)) found.push(Number(entry));
		} catch {
			// Exited while scanning.
		}
	}
	return found;
}

/** After closing the pre-started boxes, every per-run cgroup of this process is removed, so none of their processes is left either. */
export async function expectHostClean(): Promise<void> {
	await closeWarmBoxes();
	const left = liveRunCgroups();
	if (left.length > 0) throw new Error(`per-run cgroups left behind: ${left.join(", ")}`);
}
