export { BullRunQueue, type BullRunQueueOptions } from "./BullRunQueue.ts";
export { type CreateRunQueueOptions, createRunQueue } from "./createRunQueue.ts";
export { InProcessRunQueue, type InProcessRunQueueOptions } from "./InProcessRunQueue.ts";
export { createRedis, REDIS_URL_PATTERN, RedisUrlError, redisOptionsFromUrl } from "./redisConnection.ts";
export { runJob } from "./runJob.ts";
export * from "./types.ts";
