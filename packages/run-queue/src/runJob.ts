import { type RunJob, type RunQueue, RunQueueError, type RunResult } from "./types.ts";

/**
 * Submits a job and resolves with its result: what POST /execute-code needs.
 * Subscribes before submitting so the verdict cannot be missed. A failed job rejects.
 */
export async function runJob(queue: RunQueue, job: RunJob, opts: { timeoutMs?: number } = {}): Promise<RunResult> {
	let unsubscribe = (): void => {};
	let timer: NodeJS.Timeout | undefined;
	const verdict = new Promise<RunResult>((resolve, reject) => {
		unsubscribe = queue.subscribe((event) => {
			if (event.jobId !== job.id) return;
			if (event.state === "done" && event.result) resolve(event.result);
			else if (event.state === "failed")
				reject(new RunQueueError("job_failed", `job ${job.id} failed: ${event.error ?? "unknown"}`));
		});
		if (opts.timeoutMs !== undefined) {
			timer = setTimeout(
				() => reject(new RunQueueError("timeout", `job ${job.id} had no result after ${opts.timeoutMs} ms`)),
				opts.timeoutMs,
			);
		}
	});
	try {
		if ("ready" in queue && typeof queue.ready === "function") await (queue.ready as () => Promise<void>)();
		await queue.submit(job);
		// The verdict may have been published before a late subscriber saw it: check the stored status too.
		const status = await queue.status(job.id);
		if (status?.state === "done" && status.result) return status.result;
		return await verdict;
	} finally {
		unsubscribe();
		if (timer) clearTimeout(timer);
	}
}
