// Issue "Runner": the cost of isolation. Python hello, Node hello and C compile+run, each bare
// (the toolchain on the host, with the same flags the box uses, plus for Python a plain
// `python3 main.py`), in plain bubblewrap (minimal flags) and through the runner's full sandbox
// (executeJob: cgroups, rlimits, host uid drop, namespaces, fresh tmpfs, exit monitor), and through
// a REST submit (POST /execute-code on `npm start`'s server: auth, queue, runner pool, stored result).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import type { RunJob } from "@tandem/run-queue";
import { closeWarmBoxes } from "../apps/runner/src/sandbox/box.ts";
import { executeJob } from "../apps/runner/src/sandbox/executeJob.ts";
import { defaultLimits } from "../apps/runner/src/sandbox/limits.ts";
import { REPO_ROOT } from "./harness/childServers.ts";
import { fmt, quantile, table } from "./harness/stats.ts";
import { createSession, registerUser } from "./harness/tandemApi.ts";

const NODE = path.join(import.meta.dirname, "../node_modules/node/bin/node");
const CONCURRENCY = 2;
/** The bench submits far more than a person: lift the per-user and per-session run rates (RELIABILITY 48). */
const BENCH_RUN_RATES = { RUN_RATE_PER_USER: "1000000", RUN_RATE_PER_SESSION: "1000000" };

interface Workload {
	readonly name: string;
	readonly language: string;
	readonly file: string;
	readonly code: string;
	/** Shell commands run in a directory holding `file` (bare and plain bwrap): the box's own flags. */
	readonly shell: string;
	/** Further bare baselines (name, shell); ratios are always against the like-for-like `shell`. */
	readonly extraBare?: readonly (readonly [string, string])[];
	readonly iterations: number;
}

const WORKLOADS: readonly Workload[] = [
	{
		name: "Python hello",
		language: "python",
		file: "main.py",
		code: "print('hello')\n",
		// The box runs python3 -I -B -S (see languages/python.ts): -S alone saves ~10 ms of site imports.
		shell: "/usr/bin/python3 -I -B -S main.py",
		extraBare: [["bare, plain python3 main.py", "/usr/bin/python3 main.py"]],
		iterations: 60,
	},
	{
		name: "Node hello",
		language: "javascript",
		file: "main.js",
		code: "console.log('hello')\n",
		shell: `${NODE} --max-old-space-size=192 main.js`,
		iterations: 40,
	},
	{
		name: "C compile+run",
		language: "c",
		file: "main.c",
		code: '#include <stdio.h>\nint main(void){puts("hello");return 0;}\n',
		shell: "/usr/bin/gcc -O2 -std=gnu17 -pipe -fmax-errors=20 -o prog main.c -lm && ./prog",
		iterations: 20,
	},
];

/** Submits one job another way (e.g. POST /execute-code) and resolves with its stdout. */
export type Submit = (language: string, code: string) => Promise<string>;

type Variant = (w: Workload) => Promise<string>;

function sh(cmd: string, args: string[], cwd: string): Promise<string> {
	return new Promise((resolve, reject) => {
		execFile(cmd, args, { cwd, env: { PATH: "/usr/bin:/bin", HOME: cwd, LANG: "C.UTF-8" } }, (error, stdout) =>
			error ? reject(error) : resolve(stdout),
		);
	});
}

function inTempDir(w: Workload, fn: (dir: string) => Promise<string>): Promise<string> {
	const dir = mkdtempSync(path.join(os.tmpdir(), "tandem-bench-"));
	writeFileSync(path.join(dir, w.file), w.code);
	return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const bare: Variant = (w) => inTempDir(w, (dir) => sh("/bin/sh", ["-c", w.shell], dir));

const plainBwrap: Variant = (w) =>
	inTempDir(w, (dir) =>
		sh(
			"/usr/bin/bwrap",
			[
				...[
					"--ro-bind",
					"/usr",
					"/usr",
					"--symlink",
					"usr/lib",
					"/lib",
					"--symlink",
					"usr/lib64",
					"/lib64",
					"--symlink",
					"usr/bin",
					"/bin",
				],
				...["--ro-bind", "/etc/alternatives", "/etc/alternatives", "--ro-bind", NODE, NODE],
				...["--bind", dir, "/w", "--chdir", "/w", "--proc", "/proc", "--dev", "/dev", "--unshare-pid", "--unshare-net"],
				"/bin/sh",
				"-c",
				w.shell,
			],
			dir,
		),
	);

let jobSeq = 0;
const full: Variant = async (w) => {
	const job: RunJob = {
		id: `bench-${++jobSeq}`,
		sessionId: "bench",
		language: w.language,
		code: w.code,
		inputs: [{ id: "1", stdin: "" }],
		submittedAt: new Date().toISOString(),
	};
	const result = await executeJob(job, defaultLimits());
	if (result.status !== "ok") throw new Error(`${w.name}: ${result.status} ${JSON.stringify(result).slice(0, 400)}`);
	return result.runs[0]?.stdout ?? "";
};

interface Measured {
	readonly p50: number;
	readonly p99: number;
	readonly perSecond: number;
}

/** Rounds the sequential runs are split into; every variant runs its share in each round. */
const ROUNDS = 5;

async function throughput(variant: Variant, w: Workload, iterations: number): Promise<number> {
	// CONCURRENCY workers pulling from the same count of runs.
	let next = 0;
	const started = performance.now();
	await Promise.all(
		Array.from({ length: CONCURRENCY }, async () => {
			while (next++ < iterations) await variant(w);
		}),
	);
	return iterations / ((performance.now() - started) / 1000);
}

/**
 * Every variant of a workload, interleaved: round after round, each variant runs its share of
 * the sequential runs in turn, so load from elsewhere on a shared machine falls on all of them
 * alike and the ratios stay comparable.
 */
async function measureAll(variants: readonly Variant[], w: Workload, iterations: number): Promise<Measured[]> {
	for (const variant of variants) {
		const warm = await variant(w);
		if (warm.trim() !== "hello") throw new Error(`${w.name}: unexpected output ${JSON.stringify(warm)}`);
	}
	const times: number[][] = variants.map(() => []);
	const rounds = Math.min(ROUNDS, iterations);
	for (let round = 0; round < rounds; round++) {
		const share = Math.floor(iterations / rounds) + (round < iterations % rounds ? 1 : 0);
		for (const [v, variant] of variants.entries()) {
			for (let i = 0; i < share; i++) {
				const t = performance.now();
				await variant(w);
				times[v]?.push(performance.now() - t);
			}
		}
	}
	const out: Measured[] = [];
	for (const [v, variant] of variants.entries()) {
		const sorted = (times[v] ?? []).sort((a, b) => a - b);
		out.push({
			p50: quantile(sorted, 0.5),
			p99: quantile(sorted, 0.99),
			perSecond: await throughput(variant, w, iterations),
		});
	}
	return out;
}

export default async function run(opts: {
	smoke: boolean;
	submit?: Submit;
}): Promise<{ title: string; markdown: string; ratios: Record<string, number> }> {
	const server = opts.submit || process.env.BENCH_REST_URL ? undefined : await startEmbedded();
	try {
		return await measureWorkloads(opts, opts.submit ?? (await restSubmit(server?.url)));
	} finally {
		await server?.stop();
	}
}

async function measureWorkloads(
	opts: { smoke: boolean },
	submit: Submit | undefined,
): Promise<{ title: string; markdown: string; ratios: Record<string, number> }> {
	const rows: string[][] = [];
	const ratios: Record<string, number> = {};
	const loadBefore = os.loadavg()[0] ?? 0;
	for (const w of WORKLOADS) {
		const variants: [string, Variant][] = [
			["bare", bare],
			...(w.extraBare ?? []).map(([name, shell]): [string, Variant] => [name, (x) => bare({ ...x, shell })]),
			["plain bwrap", plainBwrap],
			["runner sandbox (executeJob)", full],
		];
		if (submit) variants.push(["REST submit", async (x) => submit(x.language, x.code)]);
		const iterations = opts.smoke ? 3 : w.iterations;
		const measured = await measureAll(
			variants.map(([, variant]) => variant),
			w,
			iterations,
		);
		const bareP50 = measured[0]?.p50 ?? Number.NaN;
		for (const [i, [name]] of variants.entries()) {
			const m = measured[i] as Measured;
			const ratio = m.p50 / bareP50;
			ratios[`${w.language}/${name}`] = ratio;
			rows.push([w.name, name, fmt(m.p50, 1), fmt(m.p99, 1), fmt(m.perSecond, 1), `${fmt(ratio, 2)}×`]);
		}
	}
	await closeWarmBoxes();
	const markdown = [
		`Each workload run ${opts.smoke ? 3 : "20–60"} times in sequence per path (p50, p99 in ms; the paths interleaved in ${ROUNDS} rounds so load from elsewhere falls on all alike), then the same count with ${CONCURRENCY} at a time (runs/s). Ratio = p50 / bare p50, where bare runs the toolchain with the box's own flags (Python: python3 -I -B -S; a plain python3 main.py is shown beside it). The runner sandbox is a fresh bubblewrap box per run (pre-started: set up and waiting for its files) with its own memory/pids/freezer/cpuacct cgroups, rlimits, a private tmpfs, no network; C includes compiling in its own box. REST submit is POST /execute-code over HTTP to \`npm start\` (scripts/start.ts: PGlite in a temporary DATA_DIR, the in-process queue and runner pool) as a session participant: authentication, the session check, the queue, the pool's box helper process, and the stored result (written after the answer).`,
		"",
		table(["workload", "path", "p50 ms", "p99 ms", `runs/s @${CONCURRENCY}`, "p50 vs bare"], rows),
		"",
		`Load average (1 min) on the ${os.availableParallelism()} cores: ${fmt(loadBefore, 2)} at the start of this benchmark, ${fmt(os.loadavg()[0] ?? 0, 2)} at its end.`,
	].join("\n");
	return { title: "Runner: sandbox overhead", markdown, ratios };
}

/** `npm start` (scripts/start.ts) on a free port with PGlite in a temporary DATA_DIR. */
async function startEmbedded(): Promise<{ url: string; stop: () => Promise<void> }> {
	const dataDir = mkdtempSync(path.join(os.tmpdir(), "tandem-bench-runner-"));
	const child: ChildProcess = spawn(process.execPath, ["scripts/start.ts"], {
		cwd: REPO_ROOT,
		env: { ...process.env, PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "warn", ...BENCH_RUN_RATES },
		stdio: ["ignore", "pipe", "inherit"],
	});
	const stop = async () => {
		if (child.exitCode === null && child.signalCode === null) {
			const exited = new Promise((r) => child.once("exit", r));
			child.kill("SIGTERM");
			await exited;
		}
		rmSync(dataDir, { recursive: true, force: true });
	};
	try {
		const url = await new Promise<string>((resolve, reject) => {
			createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
				const parsed = /"msg":"listening","url":"([^"]+)"/.exec(line);
				if (parsed?.[1]) resolve(parsed[1]);
			});
			child.once("exit", (code) => reject(new Error(`scripts/start.ts exited with ${code} before listening`)));
		});
		child.stdout?.resume();
		return { url, stop };
	} catch (e: unknown) {
		await stop();
		throw e;
	}
}

/**
 * POST /execute-code: the whole path a browser's run takes. To `base` as a fresh user in a fresh
 * session, or to BENCH_REST_URL for the session BENCH_REST_SESSION with the bearer token
 * BENCH_REST_TOKEN. Body and reply as in CONTRACT.md (ExecutionResult: output, error, status, exitCode).
 */
async function restSubmit(base: string | undefined): Promise<Submit | undefined> {
	let url = process.env.BENCH_REST_URL;
	let sessionId = process.env.BENCH_REST_SESSION;
	let token = process.env.BENCH_REST_TOKEN;
	if (base) {
		const account = await registerUser(base, "runbench");
		url = base;
		token = account.token;
		sessionId = await createSession(base, account.token, "runner bench");
	}
	if (!url || !sessionId) return undefined;
	return async (language, code) => {
		const res = await fetch(new URL("/execute-code", url), {
			method: "POST",
			headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
			body: JSON.stringify({ sessionId, language, code, stdin: "" }),
		});
		const body = (await res.json()) as { output?: string; status?: string };
		if (!res.ok || body.status !== "ok")
			throw new Error(`POST /execute-code: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
		return body.output ?? "";
	};
}

if (import.meta.main) {
	const result = await run({ smoke: process.argv.includes("--smoke") });
	console.log(result.markdown);
}
