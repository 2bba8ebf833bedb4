// The box helper: a small Node process that runs jobs for a pool whose own process is large (the
// sync server with PGlite). Started by helperExecutor.ts over an IPC channel; dies with its parent.
import type { RunJob, RunResult } from "@tandem/run-queue";
import { closeWarmBoxes, limitBoxes } from "../sandbox/box.ts";
import { executeJob } from "../sandbox/executeJob.ts";
import type { Limits } from "../sandbox/limits.ts";
import { killOwnBoxes } from "./sweepOrphanBoxes.ts";

/** Parent → helper. */
export type ToHelper = { type: "job"; seq: number; job: RunJob; limits: Limits; boxes?: number } | { type: "close" };

/** Helper → parent. */
export type FromHelper =
	| { type: "ready" }
	| { type: "progress"; seq: number; completed: number; total: number }
	| { type: "result"; seq: number; result: RunResult; progress?: [completed: number, total: number] }
	| { type: "error"; seq: number; message: string };

function send(message: FromHelper): void {
	// A failed send means the parent is gone: the disconnect handler ends this process.
	if (process.connected) process.send?.(message, undefined, undefined, () => {});
}

if (process.send) {
	process.on("message", (message: ToHelper) => {
		if (message.type === "close") {
			void closeWarmBoxes().finally(() => process.exit(0));
			return;
		}
		const { seq, job, limits, boxes } = message;
		if (boxes !== undefined) limitBoxes(boxes);
		// The last progress report travels with the result: one message (one wake-up of the server) less.
		let last: [number, number] | undefined;
		const progress = (completed: number, total: number) => {
			if (completed < total) send({ type: "progress", seq, completed, total });
			else last = [completed, total];
		};
		executeJob(job, limits, progress).then(
			(result) => send({ type: "result", seq, result, ...(last ? { progress: last } : {}) }),
			(e: unknown) => send({ type: "error", seq, message: e instanceof Error ? e.message : String(e) }),
		);
	});
	// The parent is gone (exited, killed): no verdict can be delivered, so no box may outlive us.
	process.on("disconnect", () => {
		killOwnBoxes();
		process.exit(0);
	});
	send({ type: "ready" });
}
