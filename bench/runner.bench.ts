// Issue "Runner": the cost of isolation. Python hello, Node hello and C compile+run, each bare
// (the toolchain on the host, with the same flags the box uses, plus for Python a plain
// `python3 main.py`), in plain bubblewrap (minimal flags) and through the runner's full sandbox
// (executeJob: cgroups, rlimits, host uid drop, namespaces, fresh tmpfs, exit monitor), optionally
// through a REST submit (POST /execute-code, when the sync server offers it).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RunJob } from "@tandem/run-queue";
import { closeWarmBoxes } from "../apps/runner/src/sandbox/box.ts";
import { executeJob } from "../apps/runner/src/sandbox/executeJob.ts";
import { defaultLimits } from "../apps/runner/src/sandbox/limits.ts";
import { fmt, quantile, table } from "./harness/stats.ts";

const NODE = path.join(import.meta.dirname, "../node_modules/node/bin/node");
const CONCURRENCY = 2;

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

async function measure(variant: Variant, w: Workload, iterations: number): Promise<Measured> {
	const warm = await variant(w);
	if (warm.trim() !== "hello") throw new Error(`${w.name}: unexpected output ${JSON.stringify(warm)}`);
	const times: number[] = [];
	for (let i = 0; i < iterations; i++) {
		const t = performance.now();
		await variant(w);
		times.push(performance.now() - t);
	}
	times.sort((a, b) => a - b);
	// Throughput: CONCURRENCY workers pulling from the same count of runs.
	let next = 0;
	const started = performance.now();
	await Promise.all(
		Array.from({ length: CONCURRENCY }, async () => {
			while (next++ < iterations) await variant(w);
		}),
	);
	const seconds = (performance.now() - started) / 1000;
	return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), perSecond: iterations / seconds };
}

export default async function run(opts: {
	smoke: boolean;
	submit?: Submit;
}): Promise<{ title: string; markdown: string; ratios: Record<string, number> }> {
	const submit = opts.submit ?? restSubmit();
	const rows: string[][] = [];
	const ratios: Record<string, number> = {};
	for (const w of WORKLOADS) {
		const variants: [string, Variant][] = [
			["bare", bare],
			...(w.extraBare ?? []).map(([name, shell]): [string, Variant] => [name, (x) => bare({ ...x, shell })]),
			["plain bwrap", plainBwrap],
			["runner sandbox (executeJob)", full],
		];
		if (submit) variants.push(["REST submit", async (x) => submit(x.language, x.code)]);
		const iterations = opts.smoke ? 3 : w.iterations;
		let bareP50 = Number.NaN;
		for (const [name, variant] of variants) {
			const m = await measure(variant, w, iterations);
			if (name === "bare") bareP50 = m.p50;
			const ratio = m.p50 / bareP50;
			ratios[`${w.language}/${name}`] = ratio;
			rows.push([w.name, name, fmt(m.p50, 1), fmt(m.p99, 1), fmt(m.perSecond, 1), `${fmt(ratio, 2)}×`]);
		}
	}
	await closeWarmBoxes();
	const markdown = [
		`Each workload run ${opts.smoke ? 3 : "20–60"} times in sequence (p50, p99 in ms), then the same count with ${CONCURRENCY} at a time (runs/s). Ratio = p50 / bare p50, where bare runs the toolchain with the box's own flags (Python: python3 -I -B -S; a plain python3 main.py is shown beside it). The runner sandbox is a fresh bubblewrap box per run (pre-started: set up and waiting for its files) with its own memory/pids/freezer/cpuacct cgroups, rlimits, a private tmpfs, no network; C includes compiling in its own box.`,
		"",
		table(["workload", "path", "p50 ms", "p99 ms", `runs/s @${CONCURRENCY}`, "p50 vs bare"], rows),
	].join("\n");
	return { title: "Runner: sandbox overhead", markdown, ratios };
}

/**
 * POST /execute-code on the sync server at BENCH_REST_URL (e.g. http://127.0.0.1:3000) for the session
 * BENCH_REST_SESSION with the bearer token BENCH_REST_TOKEN, when set: the whole path a browser's run
 * takes. Body and reply as in CONTRACT.md (ExecutionResult: output, error, status, exitCode).
 */
function restSubmit(): Submit | undefined {
	const base = process.env.BENCH_REST_URL;
	const sessionId = process.env.BENCH_REST_SESSION;
	if (!base || !sessionId) return undefined;
	return async (language, code) => {
		const res = await fetch(new URL("/execute-code", base), {
			method: "POST",
			headers: {
				"content-type": "application/json",
				...(process.env.BENCH_REST_TOKEN ? { authorization: `Bearer ${process.env.BENCH_REST_TOKEN}` } : {}),
			},
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
