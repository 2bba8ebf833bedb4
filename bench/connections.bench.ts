// Issue "Benchmarks" part 3: 20,000 idle authenticated connections to one Tandem node,
// then all closed: memory per connection and memory given back.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { collectGarbage, REPO_ROOT, startTandem } from "./harness/childServers.ts";
import type { OpenRequest, WorkerReply } from "./harness/connectionWorker.ts";
import { fdLimits, openFds, sampleProcess } from "./harness/processStats.ts";
import { fmt, fmtBytes, table } from "./harness/stats.ts";
import { WireClient } from "./harness/syncWire.ts";
import { createSession, registerUser } from "./harness/tandemApi.ts";

const FULL_CONNECTIONS = 20_000;
const SMOKE_CONNECTIONS = 200;
// Each worker stays far below its own fd limit (sockets + Node's own descriptors).
const CONNECTIONS_PER_WORKER = 5_000;
const CONCURRENCY_PER_WORKER = 64;
// Descriptors the server needs besides sockets (database files, epoll, pipes) may grow a little under load.
const SERVER_FD_MARGIN = 32;
// Like a provider's awareness renewal (every 15 s), so Hocuspocus' 60 s idle timeout never closes a socket.
const KEEPALIVE_MS = 15_000;
const SETTLE_MS = 3_000;
const RELEASE_WAIT_MS = 15_000;
const SMOKE_SETTLE_MS = 1_000;
const SMOKE_RELEASE_WAIT_MS = 3_000;

/**
 * The environment and Node flags of the sync server's `npm start` (apps/sync-server/package.json,
 * `[NAME=value ...] node [flags] src/main.ts`), so the benchmark's node runs as a deployed one does.
 */
function startScript(): { command: string; env: Record<string, string> } {
	const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "apps/sync-server/package.json"), "utf8")) as {
		scripts: { start: string };
	};
	const command = pkg.scripts.start;
	const words = command.split(/\s+/);
	const env: Record<string, string> = {};
	while (words[0]?.includes("=")) {
		const [name, ...value] = (words.shift() as string).split("=");
		env[name as string] = value.join("=");
	}
	if (words[0] !== "node") throw new Error(`unexpected start script: ${command}`);
	env.NODE_OPTIONS = words.slice(1, -1).join(" ");
	return { command, env };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startWorker(): ChildProcess {
	return spawn(
		"sh",
		[
			"-c",
			'ulimit -n "$(ulimit -Hn)"; exec "$@"',
			"sh",
			process.execPath,
			path.join(REPO_ROOT, "bench/harness/connectionWorker.ts"),
		],
		{ cwd: REPO_ROOT, stdio: ["ignore", "inherit", "inherit", "ipc"] },
	);
}

function ask<T extends WorkerReply["type"]>(
	worker: ChildProcess,
	message: object,
	reply: T,
): Promise<Extract<WorkerReply, { type: T }>> {
	return new Promise((resolve, reject) => {
		const onMessage = (m: WorkerReply) => {
			if (m.type !== reply) return;
			worker.off("message", onMessage);
			resolve(m as Extract<WorkerReply, { type: T }>);
		};
		worker.on("message", onMessage);
		worker.once("exit", (code) => reject(new Error(`connection worker exited with ${code}`)));
		worker.send(message);
	});
}

/** One open-all, close-all cycle. */
interface Cycle {
	readonly opened: number;
	readonly failed: number;
	readonly firstError?: string;
	readonly openMs: number;
	readonly openCpuMs: number;
	readonly rssBeforeBytes: number;
	readonly rssOpenBytes: number;
	readonly rssJustClosedBytes: number;
	readonly rssAfterBytes: number;
	/** RSS after a forced full GC: what a leak would still hold. */
	readonly rssAfterGcBytes: number;
	readonly fdsOpen: number;
	readonly fdsAfterClose: number;
}

/** Results for the smoke test. */
export interface ConnectionChecks {
	readonly requested: number;
	readonly target: number;
	readonly fdsStart: number;
	readonly rssStartBytes: number;
	readonly cycles: readonly Cycle[];
}

interface CycleSetup {
	readonly pid: number;
	readonly inspectorUrl: string;
	readonly workers: ChildProcess[];
	readonly request: Omit<OpenRequest, "count">;
	readonly target: number;
	readonly fdsStart: number;
	readonly settleMs: number;
	readonly releaseWaitMs: number;
}

async function cycle(setup: CycleSetup): Promise<Cycle> {
	const { pid, workers, target } = setup;
	const rssBeforeBytes = sampleProcess(pid).rssBytes;
	const cpuStart = sampleProcess(pid).cpuMicros;
	const openedAt = performance.now();
	const replies = await Promise.all(
		workers.map((worker, w) => {
			const count = Math.min(CONNECTIONS_PER_WORKER, target - w * CONNECTIONS_PER_WORKER);
			return ask(worker, { type: "open", ...setup.request, count }, "opened");
		}),
	);
	const openMs = performance.now() - openedAt;
	const openCpuMs = (sampleProcess(pid).cpuMicros - cpuStart) / 1000;
	await sleep(setup.settleMs);
	const rssOpenBytes = sampleProcess(pid).rssBytes;
	const fdsOpen = openFds(pid);
	await Promise.all(workers.map((worker) => ask(worker, { type: "close" }, "closed")));
	const closedAt = performance.now();
	while (openFds(pid) > setup.fdsStart + SERVER_FD_MARGIN && performance.now() - closedAt < setup.releaseWaitMs) {
		await sleep(200);
	}
	const fdsAfterClose = openFds(pid);
	const rssJustClosedBytes = sampleProcess(pid).rssBytes;
	// V8 gives memory back lazily; take the lowest RSS over the following seconds.
	let rssAfterBytes = rssJustClosedBytes;
	const releaseStart = performance.now();
	while (performance.now() - releaseStart < setup.releaseWaitMs) {
		await sleep(1_000);
		rssAfterBytes = Math.min(rssAfterBytes, sampleProcess(pid).rssBytes);
	}
	await collectGarbage(setup.inspectorUrl);
	await sleep(1_000);
	const rssAfterGcBytes = sampleProcess(pid).rssBytes;
	return {
		opened: replies.reduce((sum, r) => sum + r.opened, 0),
		failed: replies.reduce((sum, r) => sum + r.failed, 0),
		firstError: replies.find((r) => r.firstError)?.firstError,
		openMs,
		openCpuMs,
		rssBeforeBytes,
		rssOpenBytes,
		rssJustClosedBytes,
		rssAfterBytes,
		rssAfterGcBytes,
		fdsOpen,
		fdsAfterClose,
	};
}

const CYCLES = 2;

export default async function run(opts: {
	smoke: boolean;
}): Promise<{ title: string; markdown: string; checks: ConnectionChecks }> {
	const requested = opts.smoke ? SMOKE_CONNECTIONS : FULL_CONNECTIONS;
	const settleMs = opts.smoke ? SMOKE_SETTLE_MS : SETTLE_MS;
	const releaseWaitMs = opts.smoke ? SMOKE_RELEASE_WAIT_MS : RELEASE_WAIT_MS;
	const start = startScript();
	const server = await startTandem({ database: "postgres", inspect: true, env: start.env });
	if (!server.inspectorUrl) throw new Error("the server did not print its inspector URL");
	const inspectorUrl = server.inspectorUrl;
	const workers: ChildProcess[] = [];
	try {
		const account = await registerUser(server.httpUrl, "conns");
		const sessionId = await createSession(server.httpUrl, account.token, "connections");
		const url = server.socketUrl(sessionId);
		// Warm up: one connection through the whole path loads every lazy module before the baseline.
		const warm = new WireClient({ protocol: "hocuspocus", url, documentName: sessionId, token: account.token });
		await warm.whenSynced();
		await warm.close();
		await sleep(settleMs);
		const limits = fdLimits(server.pid);
		const fdsStart = openFds(server.pid);
		const target = Math.min(requested, limits.soft - fdsStart - SERVER_FD_MARGIN);
		for (let w = 0; w < Math.ceil(target / CONNECTIONS_PER_WORKER); w++) workers.push(startWorker());
		// The baseline is taken after a forced full GC: startup garbage would otherwise flatter every later figure.
		await collectGarbage(inspectorUrl);
		await sleep(1_000);
		const rssStart = sampleProcess(server.pid).rssBytes;
		const setup: CycleSetup = {
			pid: server.pid,
			inspectorUrl,
			workers,
			request: {
				url,
				documentName: sessionId,
				token: account.token,
				concurrency: CONCURRENCY_PER_WORKER,
				keepaliveMs: KEEPALIVE_MS,
			},
			target,
			fdsStart,
			settleMs,
			releaseWaitMs,
		};
		const cycles: Cycle[] = [];
		for (let i = 0; i < CYCLES; i++) cycles.push(await cycle(setup));
		// A preload that cannot be found is skipped by ld.so with a warning: say which allocator ran.
		const allocator = readFileSync(`/proc/${server.pid}/maps`, "utf8").includes("libjemalloc")
			? "The node ran on jemalloc."
			: "jemalloc was not found (install libjemalloc2): the node ran on glibc's malloc.";
		const limitNote =
			target < requested
				? `The server's open-file limit is ${fmt(limits.soft)} (soft) / ${fmt(limits.hard)} (hard, \`ulimit -Hn\`; raising it needs CAP_SYS_RESOURCE, which this machine denies even to root), and the server holds ${fmt(fdsStart)} descriptors before any socket, so ${fmt(target)} connections (limit − baseline − ${SERVER_FD_MARGIN} spare) is the most this machine allows instead of ${fmt(requested)}.`
				: `The server ran with an open-file limit of ${fmt(limits.soft)} (soft) / ${fmt(limits.hard)} (hard).`;
		const rows = cycles.map((c, i) => {
			const perConnection = (c.rssOpenBytes - rssStart) / Math.max(1, c.opened);
			const afterVsStart = c.rssAfterBytes / rssStart - 1;
			return [
				String(i + 1),
				fmt(c.opened),
				fmt(c.failed),
				`${fmt(c.openMs / 1000, 1)} s`,
				`${fmt(c.openCpuMs / Math.max(1, c.opened), 2)} ms`,
				fmtBytes(c.rssOpenBytes),
				`${fmt(perConnection / 1000, 1)} KB`,
				fmtBytes(c.rssJustClosedBytes),
				fmtBytes(c.rssAfterBytes),
				`${afterVsStart >= 0 ? "+" : ""}${fmt(afterVsStart * 100, 1)} %`,
				`${fmtBytes(c.rssAfterGcBytes)} (${c.rssAfterGcBytes >= rssStart ? "+" : ""}${fmt((c.rssAfterGcBytes / rssStart - 1) * 100, 1)} %)`,
				`${fmt(c.fdsOpen)} / ${fmt(c.fdsAfterClose)}`,
			];
		});
		const markdown = [
			`One Tandem node in a child process (scale-out deployment on the machine's Postgres, private schema, so RSS is the node's own and not PGlite's in-process database heap), one user and one session; ${fmt(workers.length)} client process(es) open ${fmt(target)} WebSockets to \`/collab/{sessionId}\`, each authenticated with the bearer token (Hocuspocus auth message; token and participant check on the server) and synced (SyncStep1/2), ${CONCURRENCY_PER_WORKER} handshakes in flight per client process; then all close. Idle sockets send an empty awareness message every 15 s, as a provider's awareness renewal does, so the 60 s idle timeout never fires. The server runs with the environment and Node flags of its start script (\`${start.command}\`: jemalloc and \`--expose-gc\`, docs/decisions/035-reclaim-memory-after-connections-close.md). RSS is VmRSS of the server process. *Start* (${fmtBytes(rssStart)}, ${fmt(fdsStart)} fds) is after one warm-up connection opened and closed, ${fmt(settleMs / 1000)} s of quiet and a forced full GC; *open* is ${fmt(settleMs / 1000)} s after the last handshake; *after close* is the lowest RSS in the ${fmt(releaseWaitMs / 1000)} s after every socket closed (the node runs one memory-reducing collection of its own a second after the last close, and jemalloc returns freed pages within its 10 s decay). The last column forces a full V8 garbage collection through the inspector (the server runs with \`--inspect\` on loopback) and compares with the start: what remains there is held, not merely not yet collected. The cycle runs twice on the same server: if the second cycle's RSS does not climb above the first's, what is left after close is reused, not leaked.${opts.smoke ? " Smoke run: 200 connections." : ""}`,
			"",
			`${limitNote} ${allocator}`,
			"",
			table(
				[
					"cycle",
					"connections",
					"failed",
					"open time",
					"server CPU per connection",
					"RSS open",
					"RSS per connection (goal ≤ 40 KB)",
					"RSS right after close",
					"RSS after close",
					"after close vs start (goal ≤ 10 %)",
					"after close + forced full GC (vs start)",
					"fds open / after close",
				],
				rows,
			),
			cycles.some((c) => c.firstError) ? `\nFirst failure: ${cycles.find((c) => c.firstError)?.firstError}` : "",
		].join("\n");
		return {
			title: "Idle connections on one node",
			markdown,
			checks: { requested, target, fdsStart, rssStartBytes: rssStart, cycles },
		};
	} finally {
		for (const worker of workers) if (worker.exitCode === null) worker.kill("SIGTERM");
		await server.stop();
	}
}
