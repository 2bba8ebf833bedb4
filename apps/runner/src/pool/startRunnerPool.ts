import type { RunQueue, WorkerHandle } from "@tandem/run-queue";
import { limitBoxes, settleSandbox } from "../sandbox/box.ts";
import { executeJob } from "../sandbox/executeJob.ts";
import { checkLimits, type Limits } from "../sandbox/limits.ts";
import { startHelperExecutor } from "./helperExecutor.ts";

export interface RunnerPoolOptions {
	/** Where jobs come from: the in-process queue (root `npm start`) or BullMQ (standalone runner). */
	readonly queue: RunQueue;
	/** Jobs run at once; each job runs its inputs one after another. */
	readonly concurrency: number;
	/** From the runner's configuration only: no job field can change them. */
	readonly limits: Limits;
	/**
	 * Spawn the boxes from a small helper process rather than this one: each spawn copies the
	 * spawning process's page tables, which from a large process (the sync server) blocks its event
	 * loop for 10–20 ms. Defaults to true with the in-process queue, whose pool always shares the
	 * sync server's process, and false otherwise (the standalone runner is small already).
	 */
	readonly helperProcess?: boolean;
}

export interface RunnerPool {
	/** Stops taking jobs and waits for the running ones to finish and their boxes to be removed. */
	close(): Promise<void>;
}

/**
 * Pulls jobs from `queue` and runs each with the sandbox's executeJob, at most `concurrency`
 * at a time, reporting progress after every input. Throws at once for invalid limits or concurrency.
 */
export function startRunnerPool(opts: RunnerPoolOptions): RunnerPool {
	if (!Number.isSafeInteger(opts.concurrency) || opts.concurrency < 1) {
		throw new RangeError(`runner concurrency must be a positive integer, got ${String(opts.concurrency)}`);
	}
	const limits = checkLimits(opts.limits);
	// Boxes still being cleaned after their run count against the concurrency too.
	const helper =
		(opts.helperProcess ?? opts.queue.kind === "in-process")
			? startHelperExecutor({ boxes: opts.concurrency })
			: undefined;
	if (!helper) limitBoxes(opts.concurrency);
	const worker: WorkerHandle = opts.queue.process(
		(job, progress) => (helper ? helper.execute(job, limits, progress) : executeJob(job, limits, progress)),
		{ concurrency: opts.concurrency },
	);
	let closing: Promise<void> | undefined;
	return {
		close() {
			// The helper removes its boxes' cgroups before it exits; in this process, settleSandbox does.
			closing ??= worker.close().then(() => (helper ? helper.close() : settleSandbox()));
			return closing;
		},
	};
}
