export {
	BullRunQueue,
	createRunQueue,
	InProcessRunQueue,
	type RunQueue,
	runJob,
} from "@tandem/run-queue";
export { type Language, type LanguageVersion, listLanguages } from "./languages/index.ts";
export { type RunnerPool, type RunnerPoolOptions, startRunnerPool } from "./pool/startRunnerPool.ts";
export { executeJob, prepareSandbox } from "./sandbox/executeJob.ts";
export { type BoxLimits, checkLimits, defaultLimits, type Limits } from "./sandbox/limits.ts";
