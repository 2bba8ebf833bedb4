import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import postgres from "postgres";

/** The repository root (bench/harness/../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const NODE = process.execPath;
const STARTUP_TIMEOUT_MS = 60_000;

/** Which sync server a benchmark drives. */
export type ServerKind = "tandem" | "hocuspocus" | "y-websocket";

/** A sync server running as a child process. */
export interface ChildServer {
	readonly kind: ServerKind;
	readonly pid: number;
	/** http://host:port */
	readonly httpUrl: string;
	/** The WebSocket URL of one document. */
	socketUrl(documentName: string): string;
	/** Stop the process (SIGTERM, then SIGKILL) and remove its data. Resolves with the exit code. */
	stop(): Promise<number | null>;
}

/** A free TCP port on loopback (y-websocket's server cannot listen on port 0 and report it). */
async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			const port = typeof address === "object" && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

/**
 * Spawn a command through `sh` with the soft fd limit raised to the hard limit (the
 * connection benchmark needs tens of thousands of sockets), and wait until a stdout line
 * matches `ready`.
 */
async function spawnUntil(
	args: string[],
	env: Record<string, string>,
	ready: (line: string) => string | null,
): Promise<{ child: ChildProcess; url: string }> {
	const child = spawn("sh", ["-c", 'ulimit -n "$(ulimit -Hn)"; exec "$@"', "sh", ...args], {
		cwd: REPO_ROOT,
		env: { ...process.env, ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
	const stderr: string[] = [];
	child.stderr?.on("data", (chunk: Buffer) => {
		const text = chunk.toString();
		const inspector = /Debugger listening on (ws:\/\/\S+)/.exec(text)?.[1];
		if (inspector) (child as ChildProcess & { inspectorUrl?: string }).inspectorUrl = inspector;
		if (stderr.length < 50) stderr.push(text);
	});
	const url = await new Promise<string>((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error(`${args.join(" ")} did not start: ${stderr.join("")}`)),
			STARTUP_TIMEOUT_MS,
		);
		const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
		lines.on("line", (line) => {
			const found = ready(line);
			if (found) {
				clearTimeout(timer);
				resolve(found);
			}
		});
		child.once("exit", (code) => {
			clearTimeout(timer);
			reject(new Error(`${args.join(" ")} exited with ${code} before listening: ${stderr.join("")}`));
		});
	});
	// Keep draining stdout so a chatty server never blocks on a full pipe.
	child.stdout?.resume();
	return { child, url };
}

async function stopChild(child: ChildProcess): Promise<number | null> {
	if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
	const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
	child.kill("SIGTERM");
	const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
	const code = await exited;
	clearTimeout(timer);
	return code;
}

function listeningUrl(line: string): string | null {
	try {
		const parsed = JSON.parse(line) as { msg?: string; url?: string };
		return parsed.msg === "listening" && typeof parsed.url === "string" ? parsed.url : null;
	} catch {
		return null;
	}
}

/** Options for Tandem's sync server; the default is the embedded deployment (PGlite in a temp DATA_DIR). */
export interface TandemOptions {
	/**
	 * "postgres": the scale-out deployment on TEST_DATABASE_URL in a private schema (dropped at stop);
	 * its RSS is the node's own, without PGlite's in-process database heap.
	 */
	readonly database?: "pglite" | "postgres";
	readonly env?: Record<string, string>;
	/** Keep DATA_DIR after stop (to read the stored state); the caller removes it. */
	readonly keepData?: boolean;
	/** Open the V8 inspector on a free loopback port so `collectGarbage` can force a full GC. */
	readonly inspect?: boolean;
}

/** Tandem's sync server (`node apps/sync-server/src/main.ts`) on a free port. */
export async function startTandem(
	options: TandemOptions = {},
): Promise<ChildServer & { dataDir: string; inspectorUrl: string | undefined }> {
	const dataDir = await mkdtemp(path.join(tmpdir(), "tandem-bench-"));
	const databaseUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
	const schema = `bench_${randomBytes(6).toString("hex")}`;
	const database: Record<string, string> =
		options.database === "postgres" ? { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema } : {};
	const { child, url } = await spawnUntil(
		[NODE, ...(options.inspect ? ["--inspect=127.0.0.1:0"] : []), "apps/sync-server/src/main.ts"],
		{ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "warn", ...database, ...options.env },
		listeningUrl,
	);
	return {
		kind: "tandem",
		pid: child.pid as number,
		httpUrl: url,
		dataDir,
		inspectorUrl: (child as ChildProcess & { inspectorUrl?: string }).inspectorUrl,
		socketUrl: (name) => `${url.replace(/^http/, "ws")}/collab/${name}`,
		async stop() {
			const code = await stopChild(child);
			if (!options.keepData) await rm(dataDir, { recursive: true, force: true });
			if (options.database === "postgres") {
				const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
				await sql.unsafe(`drop schema if exists ${schema} cascade`);
				await sql.end();
			}
			return code;
		},
	};
}

/** A bare `@hocuspocus/server` (no extensions, in-memory) on a free port. */
export async function startBareHocuspocus(): Promise<ChildServer> {
	const { child, url } = await spawnUntil(
		[NODE, path.join(REPO_ROOT, "bench/harness/bareHocuspocusServer.ts")],
		{},
		listeningUrl,
	);
	return {
		kind: "hocuspocus",
		pid: child.pid as number,
		httpUrl: url,
		socketUrl: (name) => `${url.replace(/^http/, "ws")}/${name}`,
		stop: () => stopChild(child),
	};
}

/** The reference y-websocket server (`y-websocket@2` bin/server.cjs, in-memory) on a free port. */
export async function startYWebsocket(): Promise<ChildServer> {
	const port = await freePort();
	const { child, url } = await spawnUntil(
		[NODE, path.join(REPO_ROOT, "node_modules/y-websocket/bin/server.cjs")],
		{ HOST: "127.0.0.1", PORT: String(port) },
		(line) => (line.includes("running at") ? `http://127.0.0.1:${port}` : null),
	);
	return {
		kind: "y-websocket",
		pid: child.pid as number,
		httpUrl: url,
		socketUrl: (name) => `ws://127.0.0.1:${port}/${name}`,
		stop: () => stopChild(child),
	};
}

/** Start a server of the given kind. */
export function startServer(kind: ServerKind, tandem: TandemOptions = {}): Promise<ChildServer> {
	if (kind === "tandem") return startTandem(tandem);
	if (kind === "hocuspocus") return startBareHocuspocus();
	return startYWebsocket();
}

/** Force a full garbage collection in a process started with `inspect` (Chrome DevTools protocol). */
export async function collectGarbage(inspectorUrl: string): Promise<void> {
	const { default: WebSocket } = await import("ws");
	const socket = new WebSocket(inspectorUrl);
	await new Promise<void>((resolve, reject) => {
		socket.once("error", reject);
		socket.once("open", () => socket.send(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" })));
		socket.on("message", (data: Buffer) => {
			if ((JSON.parse(data.toString()) as { id?: number }).id === 1) resolve();
		});
	});
	socket.close();
}
