import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/main.ts");

export interface ChildServer {
	readonly url: string;
	readonly wsUrl: string;
	readonly child: ChildProcess;
	readonly output: () => string;
	/** SIGTERM and wait for the exit code. */
	stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawn `node apps/sync-server/src/main.ts` with PORT=0 and wait for its "listening" line. */
export function spawnServer(env: Record<string, string>): Promise<ChildServer> {
	const child = spawn(process.execPath, [MAIN], {
		env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", DRAIN_DELAY_MS: "0", ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
	let out = "";
	const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
	return new Promise((resolve, reject) => {
		const onData = (chunk: Buffer) => {
			out += chunk.toString();
			const match = /"msg":"listening","url":"(http:\/\/[^"]+)"/.exec(out);
			if (match?.[1]) {
				child.stdout?.off("data", onData);
				child.stdout?.on("data", (c: Buffer) => {
					out += c.toString();
				});
				const url = match[1];
				resolve({
					url,
					wsUrl: `${url.replace("http:", "ws:")}/collab`,
					child,
					output: () => out,
					async stop(signal = "SIGTERM") {
						if (child.exitCode === null) child.kill(signal);
						return exited;
					},
				});
			}
		};
		child.stdout?.on("data", onData);
		child.stderr?.on("data", (c: Buffer) => {
			out += c.toString();
		});
		child.on("exit", (code) => reject(new Error(`server exited with ${code} before listening:\n${out}`)));
	});
}
