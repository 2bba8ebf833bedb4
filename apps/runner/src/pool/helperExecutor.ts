import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import type { ProgressReporter, RunJob, RunResult } from "@tandem/run-queue";
import type { Limits } from "../sandbox/limits.ts";
import type { FromHelper, ToHelper } from "./boxHelper.ts";

const HELPER = path.join(import.meta.dirname, "boxHelper.ts");
/** How long close() waits for the helper to remove its pre-started boxes and exit. */
const CLOSE_WAIT_MS = 10_000;

/** Runs jobs in the box helper process; see {@link startHelperExecutor}. */
export interface HelperExecutor {
	execute(job: RunJob, limits: Limits, progress: ProgressReporter): Promise<RunResult>;
	/** Call once no job is running: the helper removes its pre-started boxes and exits. */
	close(): Promise<void>;
	/** The current helper's process id (undefined between a helper's death and the next job). */
	readonly pid: number | undefined;
}

interface Pending {
	resolve: (result: RunResult) => void;
	reject: (error: Error) => void;
	progress: ProgressReporter;
}

/** An idle helper must not keep its parent alive; one running a job must (its verdict is awaited). */
function hold(child: ChildProcess, on: boolean): void {
	const channel = child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
	if (on) {
		child.ref();
		channel?.ref?.();
	} else {
		child.unref();
		channel?.unref?.();
	}
}

interface Helper {
	readonly child: ChildProcess;
	readonly ready: Promise<void>;
	readonly exited: Promise<void>;
}

/**
 * Runs executeJob in a small helper process (boxHelper.ts). Every box is a fork of the process that
 * spawns it, and fork copies the page tables of the whole process: from the sync server with PGlite
 * (~450 MB resident) one spawn blocked its event loop 11–21 ms, from a ~70 MB helper it takes ~3 ms and
 * never blocks the server. A helper that dies fails its running jobs; the next job starts a new one.
 */
export function startHelperExecutor(opts: { readonly boxes?: number } = {}): HelperExecutor {
	const pending = new Map<number, Pending>();
	let seq = 0;
	let helper: Helper | undefined;
	let closed = false;

	function settle(id: number): void {
		pending.delete(id);
		if (pending.size === 0 && helper) hold(helper.child, false);
	}

	function start(): Helper {
		const child = fork(HELPER, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: [] });
		const ready = new Promise<void>((resolve, reject) => {
			child.once("error", reject);
			child.once("exit", (code, signal) => reject(new Error(`runner helper exited at start (${signal ?? code})`)));
			child.on("message", (message: FromHelper) => {
				if (message.type === "ready") resolve();
			});
		});
		ready.catch(() => {});
		const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
		child.on("message", (message: FromHelper) => {
			if (message.type === "ready") return;
			const job = pending.get(message.seq);
			if (!job) return;
			if (message.type === "progress") {
				job.progress(message.completed, message.total);
				return;
			}
			settle(message.seq);
			if (message.type === "result") {
				if (message.progress) job.progress(...message.progress);
				job.resolve(message.result);
			} else job.reject(new Error(message.message));
		});
		child.once("exit", (code, signal) => {
			if (helper?.child === child) helper = undefined;
			for (const [id, job] of pending) {
				settle(id);
				job.reject(new Error(`runner helper exited (${signal ?? code}) while running the job`));
			}
		});
		hold(child, false);
		return { child, ready, exited };
	}

	// Started at once, so the first run does not wait for Node to boot.
	helper = start();

	return {
		get pid() {
			return helper?.child.pid;
		},
		async execute(job, limits, progress) {
			if (closed) throw new Error("runner helper is closed");
			helper ??= start();
			const current = helper;
			const id = ++seq;
			return new Promise<RunResult>((resolve, reject) => {
				pending.set(id, { resolve, reject, progress });
				// Held from here, so a caller awaiting only this job keeps its process alive while the helper boots.
				if (pending.size === 1) hold(current.child, true);
				const fail = (e: Error) => {
					if (!pending.has(id)) return;
					settle(id);
					reject(e);
				};
				current.ready.then(() => {
					const message: ToHelper = {
						type: "job",
						seq: id,
						job,
						limits,
						...(opts.boxes !== undefined ? { boxes: opts.boxes } : {}),
					};
					current.child.send(message, (e) => e && fail(e));
				}, fail);
			});
		},
		async close() {
			closed = true;
			const current = helper;
			if (!current) return;
			await current.ready.catch(() => {});
			if (current.child.connected) current.child.send({ type: "close" } satisfies ToHelper);
			const timer = setTimeout(() => current.child.kill("SIGKILL"), CLOSE_WAIT_MS);
			await current.exited;
			clearTimeout(timer);
		},
	};
}
