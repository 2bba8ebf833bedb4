import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

/**
 * Start a real runner process (`apps/runner/src/main.ts`) on BullMQ with its own queue prefix;
 * resolves once it pulls jobs, rejects with its log if it exits first.
 */
export function startRunner(redisUrl: string, queuePrefix: string): Promise<ChildProcess> {
	const child = spawn(process.execPath, ["apps/runner/src/main.ts"], {
		cwd: ROOT,
		env: { ...process.env, REDIS_URL: redisUrl, RUN_QUEUE_PREFIX: queuePrefix, RUNNER_CONCURRENCY: "2" },
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
