import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { api, createSession, registerUser } from "./support/testServer.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** Every path under `dir` (itself included) whose mode lets group or others in, with its mode. */
function openToOthers(dir: string): string[] {
	const found: string[] = [];
	const walk = (current: string) => {
		const stat = lstatSync(current);
		if (stat.isSymbolicLink()) return;
		if ((stat.mode & 0o077) !== 0)
			found.push(`${path.relative(dir, current) || "."} ${(stat.mode & 0o777).toString(8)}`);
		if (stat.isDirectory()) for (const name of readdirSync(current)) walk(path.join(current, name));
	};
	walk(dir);
	return found;
}

/**
 * `npm start`'s process (scripts/start.ts: sync-server and an in-process runner pool) under umask 000,
 * the setting on the machine where 969 of 1,015 data files were found mode 0666.
 */
function startProduct(dataDir: string): Promise<{ url: string; child: ChildProcess; log: () => string }> {
	// The embedded defaults: PGlite in DATA_DIR, the in-process queue.
	const { REDIS_URL: _redis, DATABASE_URL: _database, ...env } = process.env;
	const child = spawn("sh", ["-c", 'umask 000 && exec "$0" "$@"', process.execPath, "scripts/start.ts"], {
		cwd: ROOT,
		env: {
			...env,
			PORT: "0",
			HOST: "127.0.0.1",
			DATA_DIR: dataDir,
			LOG_LEVEL: "warn",
			EDITOR_DIST: path.join(dataDir, "no-editor"),
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	let out = "";
	child.stderr?.on("data", (c: Buffer) => {
		out += c.toString();
	});
	return new Promise((resolve, reject) => {
		child.stdout?.on("data", (c: Buffer) => {
			out += c.toString();
			const match = /"msg":"listening","url":"(http:\/\/[^"]+)"/.exec(out);
			if (match?.[1]) resolve({ url: match[1], child, log: () => out });
		});
		child.once("exit", (code) => reject(new Error(`start.ts exited with ${code}:\n${out}`)));
	});
}

let product: ChildProcess | undefined;
const dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-files-"));
afterAll(async () => {
	if (product && product.exitCode === null) {
		product.kill("SIGTERM");
		await new Promise((r) => product?.once("exit", r));
	}
	rmSync(dataDir, { recursive: true, force: true });
});

describe("data files (RELIABILITY 49)", () => {
	it("RELIABILITY 49: after start and a run, nothing in DATA_DIR is readable by group or others, earlier files included", async () => {
		// Left by an earlier version: a world-open folder and file.
		chmodSync(dataDir, 0o777);
		mkdirSync(path.join(dataDir, "old"), { mode: 0o777 });
		writeFileSync(path.join(dataDir, "old", "secret.txt"), "token secret", { mode: 0o666 });
		chmodSync(path.join(dataDir, "old"), 0o777);
		chmodSync(path.join(dataDir, "old", "secret.txt"), 0o666);
		expect(openToOthers(dataDir).length).toBe(3);

		const started = await startProduct(dataDir);
		product = started.child;
		const owner = await registerUser(started.url, "files");
		const session = await createSession(started.url, owner.token, { language: "python", code: "print(6 * 7)" });
		const run = await api(started.url, "POST", "/execute-code", {
			token: owner.token,
			body: { sessionId: session.id },
		});
		expect(run.status, run.text).toBe(200);
		expect(run.body.output).toBe("42\n");
		expect(openToOthers(dataDir)).toEqual([]);

		product.kill("SIGTERM");
		await new Promise((r) => product?.once("exit", r));
		expect(openToOthers(dataDir)).toEqual([]);
	}, 300_000);
});
