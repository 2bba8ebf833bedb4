import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

/**
 * Start a real runner process (`apps/runner/src/main.ts`) on BullMQ with its own queue prefix;
 * resolves once it pulls jobs, rejects with its log if it exits first. `env` adds to its environment.
 */
export function startRunner(
	redisUrl: string,
	queuePrefix: string,
	env: Record<string, string> = {},
): Promise<ChildProcess> {
	const child = spawn(process.execPath, ["apps/runner/src/main.ts"], {
		cwd: ROOT,
		env: { ...process.env, REDIS_URL: redisUrl, RUN_QUEUE_PREFIX: queuePrefix, RUNNER_CONCURRENCY: "2", ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
	let log = "";
	child.stderr?.on("data", (d: Buffer) => {
		log += d.toString();
	});
	return new Promise((resolve, reject) => {
		child.stdout?.on("data", (d: Buffer) => {
			log += d.toString();
			if (log.includes("runner: pulling jobs")) resolve(child);
		});
		child.once("exit", (code) => reject(new Error(`runner exited with ${code}:\n${log}`)));
	});
}

/** SIGTERM a runner started by startRunner and wait for it to exit; remove its queue's Redis keys. */
export async function stopRunner(
	runner: ChildProcess | undefined,
	redisUrl: string,
	queuePrefix: string,
): Promise<void> {
	if (runner && runner.exitCode === null) {
		runner.kill("SIGTERM");
		await new Promise((r) => runner.once("exit", r));
	}
	const redis = new (await import("ioredis")).Redis(redisUrl);
	const keys = await redis.keys(`${queuePrefix}:*`);
	if (keys.length) await redis.del(...keys);
	redis.disconnect();
}
