import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./testServer.ts";

/** A throwaway Postgres on a free port, for fault tests that stop and start it (never the shared one). */
export interface PrivatePostgres {
	readonly url: string;
	stop(): void;
	start(): void;
	destroy(): void;
}

// initdb refuses to run as root; the image has a postgres user for that.
function asPostgres(cmd: string, args: string[]): void {
	const runAs = process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
	execFileSync(runAs[0] as string, runAs[1] as string[], { stdio: "ignore" });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
	const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-pg-"));
	chmodSync(dir, 0o777);
	const data = path.join(dir, "data");
	const port = await freePort();
	asPostgres("initdb", ["-D", data, "-A", "trust", "-U", "postgres"]);
	const start = () =>
		asPostgres("pg_ctl", [
			"-D",
			data,
			"-w",
			"-l",
			path.join(dir, "log"),
			"-o",
			`-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
			"start",
		]);
	const stop = () => asPostgres("pg_ctl", ["-D", data, "-w", "-m", "fast", "stop"]);
	start();
	return {
		url: `postgres://postgres@127.0.0.1:${port}/postgres`,
		start,
		stop,
		destroy() {
			try {
				stop();
			} catch {
				// already stopped
			}
			rmSync(dir, { recursive: true, force: true });
		},
	};
}
