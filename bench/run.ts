// `npm run bench`: run every bench/*.bench.ts in this one process and write docs/PERFORMANCE.md.
// `node bench/run.ts --smoke`: a seconds-long smoke of each, printed, PERFORMANCE.md untouched.
// `--only <name>` (repeatable) runs just bench/<name>.bench.ts and replaces only its section of
// docs/PERFORMANCE.md; `--out <path>` writes a whole report elsewhere.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "./harness/childServers.ts";

/** What every bench/*.bench.ts default-exports. */
export type Benchmark = (opts: { smoke: boolean }) => Promise<{ title: string; markdown: string }>;

/** One benchmark's outcome: its tables, or the error that stopped it. */
export interface BenchOutcome {
	readonly file: string;
	readonly title: string;
	readonly markdown: string;
	readonly seconds: number;
	readonly error?: string;
	/** Whatever else the benchmark returned (checked by bench/smoke.test.ts). */
	readonly result?: Record<string, unknown>;
}

const BENCH_DIR = path.join(REPO_ROOT, "bench");

/** The bench/*.bench.ts files, sorted, optionally filtered by name (without `.bench.ts`). */
export function benchFiles(only: readonly string[] = []): string[] {
	return readdirSync(BENCH_DIR)
		.filter((f) => f.endsWith(".bench.ts"))
		.filter((f) => only.length === 0 || only.includes(f.replace(/\.bench\.ts$/, "")))
		.sort();
}

/** Run benchmarks one after another (they start servers and must not compete for the two cores). */
export async function runBenchmarks(opts: { smoke: boolean; only?: readonly string[] }): Promise<BenchOutcome[]> {
	const outcomes: BenchOutcome[] = [];
	for (const file of benchFiles(opts.only)) {
		const started = performance.now();
		console.error(`▶ ${file}${opts.smoke ? " (smoke)" : ""}`);
		try {
			const module = (await import(pathToFileURL(path.join(BENCH_DIR, file)).href)) as { default: Benchmark };
			const result = await module.default({ smoke: opts.smoke });
			const seconds = (performance.now() - started) / 1000;
			outcomes.push({ file, title: result.title, markdown: result.markdown, seconds, result });
			console.error(`✔ ${file} ${seconds.toFixed(1)} s`);
		} catch (e: unknown) {
			const seconds = (performance.now() - started) / 1000;
			const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
			outcomes.push({ file, title: file, markdown: "", seconds, error });
			console.error(`✖ ${file} failed after ${seconds.toFixed(1)} s: ${error}`);
		}
	}
	return outcomes;
}

function packageVersion(name: string): string {
	try {
		const json = JSON.parse(readFileSync(path.join(REPO_ROOT, "node_modules", name, "package.json"), "utf8")) as {
			version: string;
		};
		return json.version;
	} catch {
		return "not installed";
	}
}

function chromiumVersion(): string {
	try {
		return execFileSync("/usr/bin/chromium", ["--version"], {
			encoding: "utf8",
			timeout: 10_000,
			stdio: ["ignore", "pipe", "ignore"],
		}).trim();
	} catch {
		return "not found";
	}
}

/** The machine and the versions the numbers were measured with, as Markdown. */
export function describeEnvironment(): string {
	const cpus = os.cpus();
	const rows = [
		["CPU", `${cpus[0]?.model ?? "unknown"} (${os.availableParallelism()} cores available to this process)`],
		["Memory", `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`],
		["Kernel", `${os.type()} ${os.release()} (${os.arch()})`],
		["Node", process.version],
		["yjs", packageVersion("yjs")],
		[
			"@hocuspocus/server / provider",
			`${packageVersion("@hocuspocus/server")} / ${packageVersion("@hocuspocus/provider")}`,
		],
		["y-websocket", packageVersion("y-websocket")],
		["Chromium", chromiumVersion()],
		["Date", new Date().toISOString()],
		// Other work on a shared machine shows up here; compare it with the core count before trusting a number.
		[
			"Load average (1/5/15 min) at report time",
			os
				.loadavg()
				.map((l) => l.toFixed(2))
				.join(" / "),
		],
	];
	return ["| | |", "| --- | --- |", ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join("\n");
}

function renderSection(o: BenchOutcome): string {
	return o.error
		? `## ${o.title}\n\nThis benchmark failed in this run:\n\n\`\`\`\n${o.error}\n\`\`\``
		: `## ${o.title}\n\n*${o.file}, ${o.seconds.toFixed(0)} s.*\n\n${o.markdown}`;
}

/**
 * `existing` (a whole PERFORMANCE.md) with the sections of `outcomes` replaced (matched by title) or
 * appended, each marked as rerun on its own; the other sections stay as they were.
 */
export function spliceReport(existing: string, outcomes: readonly BenchOutcome[]): string {
	let text = existing.endsWith("\n") ? existing : `${existing}\n`;
	for (const o of outcomes) {
		const rendered = renderSection(o).replace(
			/^(## .*\n\n\*.*\*)\n/,
			`$1\n\nThis section was rerun on its own (\`node bench/run.ts --only ${o.file.replace(/\.bench\.ts$/, "")}\`) on ${new Date().toISOString().slice(0, 10)}, apart from the rest of this report; compare its rows with each other.\n`,
		);
		const start = text.indexOf(`\n## ${o.title}\n`);
		if (start < 0) {
			text = `${text}\n${rendered}\n`;
			continue;
		}
		const next = text.indexOf("\n## ", start + 1);
		text = `${text.slice(0, start + 1)}${rendered}\n${next < 0 ? "" : text.slice(next)}`;
	}
	return text;
}

/** The whole PERFORMANCE.md. */
export function renderReport(outcomes: readonly BenchOutcome[]): string {
	const sections = outcomes.map(renderSection);
	return [
		"# Performance",
		"",
		"Generated by `npm run bench` (bench/run.ts); do not edit by hand. Every benchmark ran in one `node bench/run.ts` process, one after another. Speed is reported as measured times and as ratios against a baseline measured in the same run on the same machine; CI runs only the smoke (`bench/smoke.test.ts`), which checks correctness, never a time.",
		"",
		"## Machine",
		"",
		describeEnvironment(),
		"",
		...sections.flatMap((s) => [s, ""]),
	].join("\n");
}

function argValues(args: readonly string[], flag: string): string[] {
	const values: string[] = [];
	args.forEach((a, i) => {
		if (a === flag && args[i + 1]) values.push(args[i + 1] as string);
	});
	return values;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
	const args = process.argv.slice(2);
	const smoke = args.includes("--smoke");
	const only = argValues(args, "--only");
	const out = argValues(args, "--out")[0] ?? (smoke ? undefined : path.join(REPO_ROOT, "docs/PERFORMANCE.md"));
	const outcomes = await runBenchmarks({ smoke, only });
	// `--only` into the default report keeps the other benchmarks' sections.
	const splice = only.length > 0 && !argValues(args, "--out")[0] && !smoke && existsSync(out ?? "");
	const report = splice && out ? spliceReport(readFileSync(out, "utf8"), outcomes) : renderReport(outcomes);
	if (out) {
		writeFileSync(out, report);
		console.error(`wrote ${path.relative(process.cwd(), out) || out}`);
	} else {
		console.log(report);
	}
	process.exit(outcomes.some((o) => o.error) ? 1 : 0);
}
