import { type Job, Queue, QueueEvents, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { createRedis } from "./redisConnection.ts";
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
	type RunResult,
	type RunWorker,
	runContext,
	TerminalDedupe,
} from "./types.ts";

export interface BullRunQueueOptions extends QueueBounds {
	redisUrl: string;
	/** Redis key prefix; tests use a unique one each. */
	prefix?: string;
	queueName?: string;
	/**
	 * How long a runner's lock on a job lasts without renewal. Short, so a runner killed
	 * mid-job is noticed within seconds (the lock is renewed every half period while alive).
	 */
	lockDurationMs?: number;
	/** How often live runners look for jobs whose runner died. */
	stalledIntervalMs?: number;
	/** Finished jobs are kept at most this long for status lookups (default RETAIN_FINISHED_SECONDS). */
	retainSeconds?: number;
	/**
	 * A submitter's job still counted as pending this long after it was submitted, whatever
	 * happened to it: a count whose terminal event was lost (every node down) heals by itself.
	 */
	pendingStaleMs?: number;
}

/** Longer than any job waits and runs: 100 inputs of the runner's wall limit, plus the queue wait. */
const PENDING_STALE_MS = 30 * 60_000;

/**
 * Finished jobs stay in Redis at most this long (s) for `status()` (issue 13 step 4): verdicts are stored in
 * the database, so the queue only needs to outlast a waiter's reconnect. Was an hour: 10M jobs at 10M runs/hour.
 */
export const RETAIN_FINISHED_SECONDS = 600;
/** And at most this many finished jobs per queue: about 36 s at 10M runs/hour, ~1 GB at ~10 KB a job. */
export const RETAIN_FINISHED_JOBS = 100_000;

interface JobInfo {
	sessionId: string;
	total: number;
	submittedBy?: RunJob["submittedBy"];
}

/** Tolerates malformed data (an old or foreign job): its verdict must still reach subscribers. */
function infoOf(job: Partial<RunJob> | undefined): JobInfo {
	return {
		sessionId: typeof job?.sessionId === "string" ? job.sessionId : "",
		total: Array.isArray(job?.inputs) ? job.inputs.length : 0,
		submittedBy: job?.submittedBy,
	};
}

/** BullMQ's largest priority. */
const MAX_PRIORITY = 2_097_151;

interface ProgressData {
	sessionId: string;
	completed: number;
	total: number;
}

/**
 * The queue on Redis (BullMQ). A job whose runner dies is retried once on another
 * runner (maxStalledCount 1); a second death fails it, so a poison job cannot loop.
 */
export class BullRunQueue implements RunQueue {
	readonly kind = "bullmq" as const;
	private readonly opts: Required<Omit<BullRunQueueOptions, keyof QueueBounds>> & Required<QueueBounds>;
	private readonly connection: Redis;
	private readonly queue: Queue<RunJob, RunResult>;
	private events: QueueEvents | undefined;
	private readonly listeners = new Set<(event: RunProgressEvent) => void>();
	private readonly jobInfo = new Map<string, JobInfo>();
	/** Events are relayed one after another so a late lookup cannot reorder them. */
	private relayChain: Promise<void> = Promise.resolve();
	private readonly dedupe = new TerminalDedupe();
	private readonly workers = new Set<Worker<RunJob, RunResult>>();
	private readonly extraConnections: Redis[] = [];
	private closed = false;

	constructor(options: BullRunQueueOptions) {
		this.opts = {
			prefix: "tandem",
			queueName: "runs",
			lockDurationMs: 5_000,
			stalledIntervalMs: 5_000,
			retainSeconds: RETAIN_FINISHED_SECONDS,
			retainJobs: RETAIN_FINISHED_JOBS,
			pendingStaleMs: PENDING_STALE_MS,
			maxWaiting: DEFAULT_MAX_WAITING,
			maxPendingPerUser: DEFAULT_MAX_PENDING_PER_USER,
			...options,
		};
		this.connection = this.newConnection();
		this.queue = new Queue<RunJob, RunResult>(this.opts.queueName, {
			connection: this.connection,
			prefix: this.opts.prefix,
		});
		this.queue.on("error", (e) => console.error("run-queue: queue error", e));
	}

	private newConnection(): Redis {
		// BullMQ workers require maxRetriesPerRequest null (blocking commands must not be retried by ioredis).
		const redis = createRedis(this.opts.redisUrl, { maxRetriesPerRequest: null });
		redis.on("error", (e: unknown) => console.error("run-queue: redis error", e instanceof Error ? e.message : e));
		return redis;
	}

	async submit(input: RunJob): Promise<void> {
		if (this.closed) throw new RunQueueError("closed", "run queue is closed");
		const job = parseJob(input);
		if (await this.queue.getJob(job.id)) throw new RunQueueError("duplicate_job", `job ${job.id} already exists`);
		const waiting = await this.queue.getJobCountByTypes("wait", "prioritized");
		if (waiting >= this.opts.maxWaiting) {
			throw new RunQueueError("queue_full", `the run queue is full (${this.opts.maxWaiting} waiting jobs)`);
		}
		const rank = job.submittedBy ? await this.claimPending(job.submittedBy.id, job.id) : 0;
		this.jobInfo.set(job.id, infoOf(job));
		await this.queue.add("run", job, {
			jobId: job.id,
			// Every job has a priority (BullMQ runs unprioritized jobs before all prioritized ones).
			priority: Math.min(rank + 1, MAX_PRIORITY),
			attempts: 1,
			removeOnComplete: { age: this.opts.retainSeconds, count: this.opts.retainJobs },
			removeOnFail: { age: this.opts.retainSeconds, count: this.opts.retainJobs },
		});
	}

	/** The Redis sorted set of a submitter's pending job ids, scored by submission time. */
	private pendingKey(userId: string): string {
		return `${this.opts.prefix}:${this.opts.queueName}:pending:${userId}`;
	}

	/**
	 * Count `jobId` as pending for `userId` and answer how many were pending before it, or throw
	 * `too_many_pending`. Check and add are one MULTI: two nodes may both pass with one slot
	 * left (the cap is exceeded by at most the number of nodes), which is fine for fairness.
	 */
	private async claimPending(userId: string, jobId: string): Promise<number> {
		const key = this.pendingKey(userId);
		const now = Date.now();
		const replies = await this.connection
			.multi()
			.zremrangebyscore(key, "-inf", now - this.opts.pendingStaleMs)
			.zcard(key)
			.exec();
		const rank = Number(replies?.[1]?.[1] ?? 0);
		if (rank >= this.opts.maxPendingPerUser) {
			throw new RunQueueError(
				"too_many_pending",
				`${this.opts.maxPendingPerUser} runs of this user are already queued or running`,
			);
		}
		await this.connection.multi().zadd(key, now, jobId).pexpire(key, this.opts.pendingStaleMs).exec();
		return rank;
	}

	/** A job left the pending state (done or failed); idempotent, so every node may call it. */
	private releasePending(userId: string | undefined, jobId: string): Promise<unknown> {
		if (userId === undefined) return Promise.resolve();
		return this.connection.zrem(this.pendingKey(userId), jobId).catch((e: unknown) => {
			console.error("run-queue: releasing a pending job failed", e instanceof Error ? e.message : e);
		});
	}

	async status(jobId: string): Promise<JobStatus | undefined> {
		const job = await this.queue.getJob(jobId);
		if (!job) return undefined;
		const state = await job.getState();
		switch (state) {
			case "completed":
				return { jobId, state: "done", result: job.returnvalue };
			case "failed":
				return { jobId, state: "failed", error: job.failedReason };
			case "active":
				return { jobId, state: "running" };
			case "unknown":
				return undefined;
			default:
				return { jobId, state: "queued" };
		}
	}

	subscribe(listener: (event: RunProgressEvent) => void): () => void {
		this.listeners.add(listener);
		this.ensureEvents();
		return () => this.listeners.delete(listener);
	}

	/** Resolves once the event stream is being read, so no event after this call is missed. */
	async ready(): Promise<void> {
		await this.ensureEvents().waitUntilReady();
		await this.queue.waitUntilReady();
	}

	private ensureEvents(): QueueEvents {
		if (this.events) return this.events;
		const connection = this.newConnection();
		this.extraConnections.push(connection);
		// Read from "now" rather than "$": with "$" the events between ready() and the first blocking
		// XREAD would be lost. Stream ids are Redis server milliseconds (the same clock on one host).
		const events = new QueueEvents(this.opts.queueName, {
			connection,
			prefix: this.opts.prefix,
			lastEventId: `${Date.now()}-0`,
		});
		events.on("error", (e) => console.error("run-queue: events error", e));
		events.on("waiting", ({ jobId }) => this.enqueueRelay(jobId, { state: "queued" }));
		events.on("active", ({ jobId }) => this.enqueueRelay(jobId, { state: "running" }));
		events.on("progress", ({ jobId, data }) => {
			const p = data as unknown as ProgressData;
			if (p && typeof p === "object" && typeof p.completed === "number" && typeof p.total === "number")
				this.enqueueRelay(jobId, { state: "progress", completedInputs: p.completed, totalInputs: p.total });
		});
		events.on("completed", ({ jobId, returnvalue }) => {
			const result = returnvalue as unknown as RunResult;
			this.enqueueRelay(jobId, { state: "done", result });
		});
		events.on("failed", ({ jobId, failedReason }) =>
			this.enqueueRelay(jobId, { state: "failed", error: failedReason }),
		);
		this.events = events;
		return events;
	}

	private enqueueRelay(jobId: string, partial: Omit<RunProgressEvent, "jobId" | "sessionId">): void {
		this.relayChain = this.relayChain.then(() => this.relay(jobId, partial));
	}

	private async relay(jobId: string, partial: Omit<RunProgressEvent, "jobId" | "sessionId">): Promise<void> {
		try {
			let info = this.jobInfo.get(jobId);
			if (info === undefined) {
				// Submitted by another node: the job's data says which session it belongs to.
				const job = await this.queue.getJob(jobId);
				if (!job) return;
				info = infoOf(job.data);
				this.jobInfo.set(jobId, info);
			}
			const terminal = partial.state === "done" || partial.state === "failed";
			if (terminal) {
				this.jobInfo.delete(jobId);
				await this.releasePending(info.submittedBy?.id, jobId);
				if (!this.dedupe.first(jobId)) return;
			}
			const totals = partial.state === "queued" || partial.state === "running" ? { totalInputs: info.total } : {};
			const event: RunProgressEvent = {
				jobId,
				sessionId: info.sessionId,
				...totals,
				...partial,
				...(info.submittedBy ? { submittedBy: info.submittedBy } : {}),
			};
			for (const listener of this.listeners) {
				try {
					listener(event);
				} catch (e: unknown) {
					console.error("run-queue: listener failed", e);
				}
			}
		} catch (e: unknown) {
			console.error("run-queue: relaying event failed", e);
		}
	}

	process(handler: RunHandler, opts: { concurrency: number }): RunWorker {
		if (this.closed) throw new RunQueueError("closed", "run queue is closed");
		const connection = this.newConnection();
		this.extraConnections.push(connection);
		const worker = new Worker<RunJob, RunResult>(
			this.opts.queueName,
			async (job: Job<RunJob, RunResult>) => {
				const data = parseJob(job.data);
				try {
					return await handler(
						data,
						runContext((completed, total) => {
							const progress: ProgressData = { sessionId: data.sessionId, completed, total };
							job
								.updateProgress(progress as unknown as object)
								.catch((e: unknown) => console.error("run-queue: progress failed", e));
						}),
					);
				} finally {
					// Also here, so the count is right even when no node listens to events.
					await this.releasePending(data.submittedBy?.id, data.id);
				}
			},
			{
				connection,
				prefix: this.opts.prefix,
				concurrency: Math.max(1, opts.concurrency),
				lockDuration: this.opts.lockDurationMs,
				stalledInterval: this.opts.stalledIntervalMs,
				maxStalledCount: 1,
			},
		);
		worker.on("error", (e) => console.error("run-queue: worker error", e));
		this.workers.add(worker);
		return {
			close: async () => {
				this.workers.delete(worker);
				await worker.close();
			},
		};
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		await Promise.allSettled([...this.workers].map((w) => w.close()));
		this.workers.clear();
		await this.events?.close().catch(() => undefined);
		await this.relayChain;
		await this.queue.close().catch(() => undefined);
		for (const c of [this.connection, ...this.extraConnections]) c.disconnect();
		this.listeners.clear();
	}
}
