import type { RunQueue, WorkerHandle } from "@tandem/run-queue";
import { executeJob } from "../sandbox/executeJob.ts";
import { checkLimits, type Limits } from "../sandbox/limits.ts";

export interface RunnerPoolOptions {
	/** Where jobs come from: the in-process queue (root `npm start`) or BullMQ (standalone runner). */
	readonly queue: RunQueue;
	/** Jobs run at once; each job runs its inputs one after another. */
	readonly concurrency: number;
	/** From the runner's configuration only: no job field can change them. */
	readonly limits: Limits;
}

export interface RunnerPool {
	/** Stops taking jobs and waits for the running ones to finish (their boxes are removed). */
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
	const worker: WorkerHandle = opts.queue.process((job, progress) => executeJob(job, limits, progress), {
		concurrency: opts.concurrency,
	});
	let closing: Promise<void> | undefined;
	return {
		close() {
			closing ??= worker.close();
			return closing;
		},
	};
}
