import type { CompileOutcome, InputOutcome, ProgressReporter, RunJob, RunResult, RunStatus } from "@tandem/run-queue";
import { getLanguage, type Language, listLanguages, type ProgramEntry } from "../languages/index.ts";
import { BOX_DIR, type BoxFile, type BoxOutcome, checkHostTools, runBox } from "./box.ts";
import { type BoxLimits, checkLimits, type Limits } from "./limits.ts";
import { initCgroups } from "./runCgroup.ts";

// An artefact larger than this is not a program anyone meant to write (and it is held in memory).
const MAX_ARTIFACT_BYTES = 128 * 1024 * 1024;

/** Check cgroups and toolchains once; throws with a clear message when the runner cannot isolate runs. */
export async function prepareSandbox(): Promise<void> {
	checkHostTools();
	await initCgroups();
	await listLanguages();
}

/**
 * The verdict of one run, from what the kernel counted: a flood of output first (the runner cut it),
 * then memory (the cgroup counted the tree at its limit: a tree stuck in reclaim at its limit is
 * killed for time on a loaded host, but its memory is what stopped it), then time, then the exit.
 */
function classifyRun(lang: Language, o: BoxOutcome): RunStatus {
	if (!o.started) return "internal_error";
	if (o.outputLimited) return "output_limit";
	const failed = o.wallTimeout || o.cpuTimeout || o.exitCode !== 0 || o.signal !== null;
	if (!failed) return "ok";
	if (o.memoryLimit || lang.isOutOfMemory?.(o)) return "memory_limit";
	if (o.wallTimeout || o.cpuTimeout) return "timeout";
	return "runtime_error";
}

function inputOutcome(inputId: string, status: RunStatus, o: BoxOutcome, limits: BoxLimits): InputOutcome {
	return {
		inputId,
		status,
		stdout: o.stdout,
		stderr: o.stderr,
		exitCode: o.exitCode,
		signal: o.signal,
		timeMs: o.timeMs,
		...(o.memoryKb !== undefined ? { memoryKb: o.memoryKb } : {}),
		...(o.outputLimited ? { truncated: true, outputLimitBytes: limits.outputBytes } : {}),
	};
}

function compileStatus(o: BoxOutcome, artifact: Buffer | undefined): RunStatus {
	if (!o.started) return "internal_error";
	if (o.outputLimited) return "output_limit";
	if (o.wallTimeout || o.cpuTimeout) return "timeout";
	if (o.exitCode !== 0 || o.signal !== null || !artifact) return "compile_error";
	return "ok";
}

function compileMessage(o: BoxOutcome, status: RunStatus): string {
	const out = [o.stdout, o.stderr].filter((s) => s !== "").join("\n");
	if (status === "timeout" && !o.memoryLimit) return `${out}\ncompilation stopped: time limit`.trim();
	if (o.memoryLimit) return `${out}\ncompilation stopped: memory limit`.trim();
	return out;
}

/**
 * Run a job: compile once (if the language compiles), then each input in its own fresh sandbox with
 * the same limits, calling `progress(done, total)` after each. Limits come only from the caller's
 * configuration, never from the job. Every outcome of user code is a result; only a broken runner throws.
 */
export async function executeJob(job: RunJob, limits: Limits, progress?: ProgressReporter): Promise<RunResult> {
	checkLimits(limits);
	await initCgroups();
	const startedAt = new Date().toISOString();
	const total = job.inputs.length;
	const finish = (status: RunStatus, runs: InputOutcome[], compile?: CompileOutcome): RunResult => ({
		jobId: job.id,
		sessionId: job.sessionId,
		language: job.language,
		status,
		...(compile ? { compile } : {}),
		runs,
		startedAt,
		finishedAt: new Date().toISOString(),
	});

	const lang = getLanguage(job.language);
	const available = lang && (await listLanguages()).some((l) => l.id === lang.id);
	if (!lang || !available) {
		return finish("internal_error", [], {
			status: "internal_error",
			output: `language "${job.language}" is not available on this runner`,
			timeMs: 0,
		});
	}
	// The source is written into the box through a pipe under RLIMIT_FSIZE; past it the box could not start.
	if (Buffer.byteLength(job.code) > Math.min(limits.run.fileSizeBytes, limits.compile.fileSizeBytes)) {
		return finish("compile_error", [], {
			status: "compile_error",
			output: "source code is larger than the file size limit",
			timeMs: 0,
		});
	}
	const binds = lang.binds?.() ?? [];
	const entry: ProgramEntry = lang.entryOf?.(job.code) ?? { sourceFile: lang.sourceFile };
	const source: BoxFile = { path: `${BOX_DIR}/${entry.sourceFile}`, content: job.code };

	let runFiles: BoxFile[] = [source];
	let compile: CompileOutcome | undefined;
	if (lang.compile) {
		const step = lang.compile(limits.compile, entry);
		const o = await runBox({
			tag: `${lang.id}-compile`,
			warm: true,
			argv: step.argv,
			env: lang.env?.(limits.compile),
			files: [source],
			binds,
			stdin: "",
			limits: limits.compile,
			artifact: { path: step.artifact, maxBytes: MAX_ARTIFACT_BYTES },
		});
		const status = compileStatus(o, o.artifact);
		compile = { status, output: compileMessage(o, status), timeMs: o.timeMs };
		if (status !== "ok" || !o.artifact) {
			return finish(status === "ok" ? "compile_error" : status, [], compile);
		}
		runFiles = [{ path: lang.runArtifact ?? step.artifact, content: o.artifact, executable: true }];
	}

	const runs: InputOutcome[] = [];
	for (const input of job.inputs) {
		const o = await runOne(lang, entry, limits.run, runFiles, binds, input.stdin);
		if (!compile && lang.isSyntaxError && o.started && o.exitCode !== 0 && lang.isSyntaxError(o)) {
			// Interpreted languages fail to parse before running anything: report it as the compile step.
			compile = {
				status: "compile_error",
				output: [o.stdout, o.stderr].filter((s) => s !== "").join("\n"),
				timeMs: o.timeMs,
			};
			progress?.(total, total);
			return finish("compile_error", [], compile);
		}
		runs.push(inputOutcome(input.id, classifyRun(lang, o), o, limits.run));
		progress?.(runs.length, total);
	}
	const firstBad = runs.find((r) => r.status !== "ok");
	return finish(firstBad?.status ?? "ok", runs, compile);
}

/**
 * What a run's program reads on stdin: the input as given, plus a final "\n" when it is non-empty and
 * lacks one (RELIABILITY 41). Line readers (bash `read`, C `scanf("%d\n")`, Java's Scanner.nextLine
 * loops, `while read` idioms) otherwise lose or mis-handle the last line of input typed or pasted
 * without a trailing newline; no judge's input is meant to end mid-line. Empty input stays empty.
 */
export function stdinForProgram(stdin: string): string {
	return stdin === "" || stdin.endsWith("\n") ? stdin : `${stdin}\n`;
}

function runOne(
	lang: Language,
	entry: ProgramEntry,
	limits: BoxLimits,
	files: BoxFile[],
	binds: ReturnType<NonNullable<Language["binds"]>>,
	stdin: string,
) {
	// Tagged by language, not job: a pre-started box is launched before its job is known.
	return runBox({
		tag: `${lang.id}-run`,
		warm: true,
		argv: lang.run(limits, entry),
		env: lang.env?.(limits),
		files,
		binds,
		stdin: stdinForProgram(stdin),
		limits,
	});
}
