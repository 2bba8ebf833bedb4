/**
 * A full garbage collection that also gives freed heap pages back to the OS. Node's `gc`
 * (`--expose-gc`) with `flavor: "last-resort"` is V8's CollectAllAvailableGarbage, the
 * collection its low-memory notification runs.
 */
export type ReclaimMemory = () => Promise<void>;

export interface ReclaimerOptions {
	/** Undefined: nothing is collected (the node was started without `--expose-gc`). */
	readonly reclaim?: ReclaimMemory;
	/** Closes below this many since the peak leave the garbage to V8's own schedule. */
	readonly minDrop?: number;
	/** Collect once no socket has closed for this long, so one wave of closes costs one collection. */
	readonly quietMs?: number;
	/** ...but no later than this after the drop was first seen, even while sockets keep closing. */
	readonly maxWaitMs?: number;
}

// An idle socket holds ~12 KB of V8 old space (10,000 sockets: 22 → 140 MiB):
// 1,000 of them is ~12 MB, below which a collection is not worth its pause.
export const RECLAIM_MIN_DROP = 1000;
export const RECLAIM_QUIET_MS = 1000;
export const RECLAIM_MAX_WAIT_MS = 10_000;

/** Node's `gc` when the process runs with `--expose-gc`. */
export function exposedGc(): ReclaimMemory | undefined {
	const gc = globalThis.gc;
	if (typeof gc !== "function") return undefined;
	return () => gc({ type: "major", execution: "async", flavor: "last-resort" });
}

/**
 * Counts this node's open sockets and runs one memory-reducing collection after many of them
 * closed (at least `minDrop`, and at least half of the peak since the last collection).
 *
 * Why: every socket's state (Hocuspocus connection, ws buffers, the request it came with) has
 * been promoted to V8's old space by the time it closes. An idle node allocates next to nothing,
 * so V8 starts no major collection and its memory reducer waits for a low allocation rate it
 * keeps judging high: measured with 10,000 closed sockets, no collection ran in the 30 s after
 * (docs/decisions/035-reclaim-memory-after-connections-close.md).
 */
export class ConnectionMemoryReclaimer {
	private open = 0;
	private peak = 0;
	private timer: NodeJS.Timeout | undefined;
	private firstDropAt = 0;
	private collecting: Promise<void> | undefined;
	private stopped = false;
	private readonly reclaim: ReclaimMemory | undefined;
	private readonly minDrop: number;
	private readonly quietMs: number;
	private readonly maxWaitMs: number;
	/** Collections run so far. */
	collections = 0;

	constructor(options: ReclaimerOptions = {}) {
		this.reclaim = options.reclaim;
		this.minDrop = options.minDrop ?? RECLAIM_MIN_DROP;
		this.quietMs = options.quietMs ?? RECLAIM_QUIET_MS;
		this.maxWaitMs = options.maxWaitMs ?? RECLAIM_MAX_WAIT_MS;
	}

	/** Sockets open now. */
	get openSockets(): number {
		return this.open;
	}

	/** True while a collection is scheduled or running. */
	get pending(): boolean {
		return this.timer !== undefined || this.collecting !== undefined;
	}

	/** Resolves when the scheduled or running collection (if any) has finished. */
	async settled(): Promise<void> {
		while (this.pending) {
			if (this.collecting) await this.collecting;
			else await new Promise((resolve) => setTimeout(resolve, this.quietMs));
		}
	}

	opened(): void {
		this.open += 1;
		this.peak = Math.max(this.peak, this.open);
	}

	closed(): void {
		this.open = Math.max(0, this.open - 1);
		if (!this.reclaim || this.collecting || this.stopped) return;
		const drop = this.peak - this.open;
		if (drop < this.minDrop || this.open > this.peak / 2) return;
		const now = Date.now();
		if (this.timer) clearTimeout(this.timer);
		else this.firstDropAt = now;
		const delay = Math.max(0, Math.min(this.quietMs, this.firstDropAt + this.maxWaitMs - now));
		this.timer = setTimeout(() => this.collect(), delay);
		this.timer.unref();
	}

	/** Cancel a scheduled collection and schedule no more (server shutdown). */
	stop(): void {
		this.stopped = true;
		if (this.timer) clearTimeout(this.timer);
		this.timer = undefined;
	}

	private collect(): void {
		this.timer = undefined;
		const reclaim = this.reclaim;
		if (!reclaim) return;
		// Sockets still open stay the baseline: the next wave is measured from here.
		this.peak = this.open;
		this.collecting = reclaim()
			.catch((e: unknown) => {
				console.error(JSON.stringify({ level: "warn", msg: "memory reclaim failed", err: String(e) }));
			})
			.finally(() => {
				this.collections += 1;
				this.collecting = undefined;
			});
	}
}
