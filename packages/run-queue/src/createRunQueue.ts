import { BullRunQueue, type BullRunQueueOptions } from "./BullRunQueue.ts";
import { InProcessRunQueue } from "./InProcessRunQueue.ts";
import type { RunQueue } from "./types.ts";

export interface CreateRunQueueOptions extends Partial<BullRunQueueOptions> {}

/** BullMQ on Redis when `redisUrl` is given, otherwise the embedded in-process queue. */
export function createRunQueue(options: CreateRunQueueOptions = {}): RunQueue {
	if (options.redisUrl) return new BullRunQueue({ ...options, redisUrl: options.redisUrl });
	return new InProcessRunQueue();
}
