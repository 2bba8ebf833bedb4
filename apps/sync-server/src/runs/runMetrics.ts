import type { RunQueue } from "@tandem/run-queue";
import type { RunMetrics } from "../http/metrics.ts";
import { TEST_JOB_PREFIX } from "./RunHub.ts";

/**
 * Jobs submitted through this node and not answered yet. Bounded like RunHub's own tracking: a
 * job whose verdict this node never hears (a lost event) is forgotten after this many newer ones.
 */
const MAX_TRACKED_JOBS = 20_000;

interface InFlight {
	readonly submittedAt: number;
	readonly language: string;
	running: boolean;
}

/**
 * `queue` with its submits counted into `metrics`: jobs submitted here are tracked from submit to
 * verdict (queue events), so the `tandem_runs` gauge and the run-duration histogram of one node
 * hold only its own jobs, and summing over nodes counts each job once. `stop` drops the
 * subscription (the queue itself stays open: its owner closes it).
 */
export function instrumentRunQueue(queue: RunQueue, metrics: RunMetrics): { queue: RunQueue; stop: () => void } {
	const inFlight = new Map<string, InFlight>();
	const unsubscribe = queue.subscribe((event) => {
		const job = inFlight.get(event.jobId);
		if (!job) return;
		if (event.state === "running" || event.state === "progress") job.running = true;
		if (event.state !== "done" && event.state !== "failed") return;
		inFlight.delete(event.jobId);
		metrics.observeRun(
			{
				kind: event.jobId.startsWith(TEST_JOB_PREFIX) ? "test" : "run",
				language: job.language,
				status: event.state === "failed" ? "failed" : (event.result?.status ?? "failed"),
			},
			(performance.now() - job.submittedAt) / 1000,
		);
	});
	metrics.setInFlight(() => {
		let running = 0;
		for (const job of inFlight.values()) if (job.running) running++;
		return { queued: inFlight.size - running, running };
	});
	const instrumented: RunQueue = {
		kind: queue.kind,
		async submit(job) {
			// Before submitting: the queue may announce the job before submit() returns. A second
			// submit of a job in flight (refused as a duplicate) leaves the first one's entry alone.
			const fresh = !inFlight.has(job.id);
			if (fresh) inFlight.set(job.id, { submittedAt: performance.now(), language: job.language, running: false });
			if (inFlight.size > MAX_TRACKED_JOBS) {
				const oldest = inFlight.keys().next().value;
				if (oldest !== undefined) inFlight.delete(oldest);
			}
			try {
				await queue.submit(job);
			} catch (e: unknown) {
				if (fresh) inFlight.delete(job.id);
				throw e;
			}
		},
		status: (jobId) => queue.status(jobId),
		subscribe: (listener) => queue.subscribe(listener),
		process: (handler, options) => queue.process(handler, options),
		close: () => queue.close(),
	};
	return { queue: instrumented, stop: unsubscribe };
}
