import {
	DEFAULT_MAX_PENDING_PER_USER,
	DEFAULT_MAX_WAITING,
	type JobStatus,
	parseJob,
	type QueueBounds,
	type RunHandler,
	type RunJob,
	type RunProgressEvent,
	type RunQueue,
	RunQueueError,
	type RunWorker,
	runContext,
	TerminalDedupe,
} from "./types.ts";

/** Jobs kept for status lookups by default; the oldest finished ones are forgotten first. */
const MAX_RETAINED_JOBS = 5_000;

export interface InProcessRunQueueOptions extends QueueBounds {}

interface Entry {
	job: RunJob;
	status: JobStatus;
}

interface Waiting {
	job: RunJob;
	/** How many jobs its submitter had pending when it was submitted: lower runs first. */
	rank: number;
}

interface Consumer {
	handler: RunHandler;
	concurrency: number;
	active: number;
	closed: boolean;
	idle: Array<() => void>;
}

/** The embedded queue: jobs and events stay in this process. */
export class InProcessRunQueue implements RunQueue {
	readonly kind = "in-process" as const;
	private readonly entries = new Map<string, Entry>();
	private readonly waiting: Waiting[] = [];
	/** Queued or running jobs per submitter id. */
	private readonly pending = new Map<string, number>();
	private readonly listeners = new Set<(event: RunProgressEvent) => void>();
	private readonly consumers: Consumer[] = [];
	private readonly dedupe = new TerminalDedupe();
	private closed = false;
	private readonly retainJobs: number;
	private readonly maxWaiting: number;
	private readonly maxPendingPerUser: number;

	constructor(options: InProcessRunQueueOptions = {}) {
		this.retainJobs = Math.max(1, options.retainJobs ?? MAX_RETAINED_JOBS);
		this.maxWaiting = Math.max(1, options.maxWaiting ?? DEFAULT_MAX_WAITING);
		this.maxPendingPerUser = Math.max(1, options.maxPendingPerUser ?? DEFAULT_MAX_PENDING_PER_USER);
	}

	async submit(input: RunJob): Promise<void> {
		if (this.closed) throw new RunQueueError("closed", "run queue is closed");
		const job = parseJob(input);
		if (this.entries.has(job.id)) throw new RunQueueError("duplicate_job", `job ${job.id} already exists`);
		if (this.waiting.length >= this.maxWaiting) {
			throw new RunQueueError("queue_full", `the run queue is full (${this.maxWaiting} waiting jobs)`);
		}
		const user = job.submittedBy?.id;
		const rank = user === undefined ? 0 : (this.pending.get(user) ?? 0);
		if (user !== undefined && rank >= this.maxPendingPerUser) {
			throw new RunQueueError(
				"too_many_pending",
				`${this.maxPendingPerUser} runs of this user are already queued or running`,
			);
		}
		if (user !== undefined) this.pending.set(user, rank + 1);
		this.entries.set(job.id, { job, status: { jobId: job.id, state: "queued" } });
		this.trim();
		// Behind every waiting job of the same or a lower rank, ahead of those of a higher one.
		let at = this.waiting.length;
		while (at > 0 && (this.waiting[at - 1]?.rank ?? 0) > rank) at--;
		this.waiting.splice(at, 0, { job, rank });
		this.emit({ jobId: job.id, sessionId: job.sessionId, state: "queued", totalInputs: job.inputs.length });
		this.dispatch();
	}

	async status(jobId: string): Promise<JobStatus | undefined> {
		const entry = this.entries.get(jobId);
		return entry ? structuredClone(entry.status) : undefined;
	}

	subscribe(listener: (event: RunProgressEvent) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	process(handler: RunHandler, opts: { concurrency: number }): RunWorker {
		if (this.closed) throw new RunQueueError("closed", "run queue is closed");
		const consumer: Consumer = {
			handler,
			concurrency: Math.max(1, opts.concurrency),
			active: 0,
			closed: false,
			idle: [],
		};
		this.consumers.push(consumer);
		queueMicrotask(() => this.dispatch());
		return {
			close: async () => {
				consumer.closed = true;
				const i = this.consumers.indexOf(consumer);
				if (i >= 0) this.consumers.splice(i, 1);
				if (consumer.active > 0) await new Promise<void>((resolve) => consumer.idle.push(resolve));
			},
		};
	}

	async close(): Promise<void> {
		this.closed = true;
		// Running jobs finish (their verdicts are still published); waiting ones are never started.
		for (const c of this.consumers) c.closed = true;
		await Promise.all(
			this.consumers.map((c) => (c.active > 0 ? new Promise<void>((resolve) => c.idle.push(resolve)) : undefined)),
		);
		this.consumers.length = 0;
		this.listeners.clear();
	}

	private dispatch(): void {
		for (const consumer of this.consumers) {
			while (!consumer.closed && consumer.active < consumer.concurrency && this.waiting.length > 0) {
				const next = this.waiting.shift();
				if (next) void this.run(consumer, next.job);
			}
		}
	}

	private async run(consumer: Consumer, job: RunJob): Promise<void> {
		consumer.active++;
		const entry = this.entries.get(job.id);
		if (entry) entry.status = { jobId: job.id, state: "running" };
		this.emit({ jobId: job.id, sessionId: job.sessionId, state: "running", totalInputs: job.inputs.length });
		try {
			const result = await consumer.handler(
				structuredClone(job),
				runContext((completed, total) =>
					this.emit({
						jobId: job.id,
						sessionId: job.sessionId,
						state: "progress",
						completedInputs: completed,
						totalInputs: total,
					}),
				),
			);
			if (entry) entry.status = { jobId: job.id, state: "done", result };
			this.emit({
				jobId: job.id,
				sessionId: job.sessionId,
				state: "done",
				result,
				totalInputs: job.inputs.length,
				completedInputs: job.inputs.length,
			});
		} catch (e: unknown) {
			const error = e instanceof Error ? e.message : String(e);
			if (entry) entry.status = { jobId: job.id, state: "failed", error };
			this.emit({ jobId: job.id, sessionId: job.sessionId, state: "failed", error });
		} finally {
			const user = job.submittedBy?.id;
			if (user !== undefined) {
				const left = (this.pending.get(user) ?? 1) - 1;
				if (left > 0) this.pending.set(user, left);
				else this.pending.delete(user);
			}
			consumer.active--;
			if (consumer.active === 0) for (const resolve of consumer.idle.splice(0)) resolve();
			this.dispatch();
		}
	}

	private emit(partial: RunProgressEvent): void {
		const submittedBy = this.entries.get(partial.jobId)?.job.submittedBy;
		const event: RunProgressEvent = submittedBy ? { ...partial, submittedBy } : partial;
		if ((event.state === "done" || event.state === "failed") && !this.dedupe.first(event.jobId)) return;
		for (const listener of this.listeners) {
			try {
				listener(event);
			} catch (e: unknown) {
				console.error("run-queue: listener failed", e);
			}
		}
	}

	private trim(): void {
		if (this.entries.size <= this.retainJobs) return;
		for (const [id, entry] of this.entries) {
			if (this.entries.size <= this.retainJobs) break;
			if (entry.status.state === "done" || entry.status.state === "failed") this.entries.delete(id);
		}
	}
}
