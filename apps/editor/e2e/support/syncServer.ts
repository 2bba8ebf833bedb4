import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./editorBuild.ts";

export interface RunningServer {
	/** Base URL, e.g. http://127.0.0.1:43121 */
	readonly url: string;
	readonly dataDir: string;
	readonly process: ChildProcess;
	/** SIGTERM, wait for exit, remove the data folder. */
	stop(): Promise<void>;
}

export interface StartServerOptions {
	/** Folder with the built editor (see buildEditor). */
	readonly editorDist: string;
	readonly env?: Record<string, string>;
}

/**
 * Spawn the real sync-server on a free port with embedded PGlite in a temporary DATA_DIR
 * and wait for its `{"msg":"listening","url":...}` line.
 */
export async function startSyncServer(options: StartServerOptions): Promise<RunningServer> {
	const dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-e2e-data-"));
	// Embedded defaults (PGlite, in-process bus) unless the test asks for services.
	const env: Record<string, string | undefined> = { ...process.env };
	delete env.DATABASE_URL;
	delete env.REDIS_URL;
	const child = spawn(process.execPath, [path.join(REPO_ROOT, "apps/sync-server/src/main.ts")], {
		cwd: REPO_ROOT,
		env: {
			...env,
			PORT: "0",
			HOST: "127.0.0.1",
			DATA_DIR: dataDir,
			EDITOR_DIST: options.editorDist,
			LOG_LEVEL: "warn",
			...options.env,
		},
		stdio: ["ignore", "pipe", "inherit"],
	});
	const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
	const url = await new Promise<string>((resolve, reject) => {
		let buffered = "";
		child.once("exit", (code) => reject(new Error(`sync-server exited with code ${code} before listening`)));
		child.stdout?.on("data", (chunk: Buffer) => {
			buffered += chunk.toString();
			const lines = buffered.split("\n");
			buffered = lines.pop() ?? "";
			for (const line of lines) {
				try {
					const entry = JSON.parse(line) as { msg?: string; url?: string };
					if (entry.msg === "listening" && entry.url) resolve(entry.url);
				} catch {
					// Not a log line of ours; ignore.
				}
			}
		});
	});
	child.stdout?.resume();
	return {
		url,
		dataDir,
		process: child,
		async stop() {
			if (child.exitCode === null && child.signalCode === null) {
				child.kill("SIGTERM");
				await exited;
			}
			rmSync(dataDir, { recursive: true, force: true });
		},
	};
}
