import type { CompileOutcome, InputOutcome, ProgressReporter, RunJob, RunResult, RunStatus } from "@tandem/run-queue";
import { getLanguage, type Language, listLanguages } from "../languages/index.ts";
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

function classifyRun(lang: Language, o: BoxOutcome): RunStatus {
	if (!o.started) return "internal_error";
	if (o.outputLimited) return "output_limit";
	if (o.wallTimeout || o.cpuTimeout) return "timeout";
	const failed = o.exitCode !== 0 || o.signal !== null;
	if (!failed) return "ok";
	if (o.oom || lang.isOutOfMemory?.(o)) return "memory_limit";
	return "runtime_error";
}

function inputOutcome(inputId: string, status: RunStatus, o: BoxOutcome): InputOutcome {
	return {
		inputId,
		status,
		stdout: o.stdout,
		stderr: o.stderr,
		exitCode: o.exitCode,
		signal: o.signal,
		timeMs: o.timeMs,
		...(o.memoryKb !== undefined ? { memoryKb: o.memoryKb } : {}),
		...(o.outputLimited ? { truncated: true } : {}),
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
	if (status === "timeout") return `${out}\ncompilation stopped: time limit`.trim();
	if (o.oom) return `${out}\ncompilation stopped: memory limit`.trim();
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
	const source: BoxFile = { path: `${BOX_DIR}/${lang.sourceFile}`, content: job.code };

	let runFiles: BoxFile[] = [source];
	let compile: CompileOutcome | undefined;
	if (lang.compile) {
		const step = lang.compile(limits.compile);
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
		const o = await runOne(lang, limits.run, runFiles, binds, input.stdin);
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
		runs.push(inputOutcome(input.id, classifyRun(lang, o), o));
		progress?.(runs.length, total);
	}
	const firstBad = runs.find((r) => r.status !== "ok");
	return finish(firstBad?.status ?? "ok", runs, compile);
}

function runOne(
	lang: Language,
	limits: BoxLimits,
	files: BoxFile[],
	binds: ReturnType<NonNullable<Language["binds"]>>,
	stdin: string,
) {
	// Tagged by language, not job: a pre-started box is launched before its job is known.
	return runBox({
		tag: `${lang.id}-run`,
		warm: true,
		argv: lang.run(limits),
		env: lang.env?.(limits),
		files,
		binds,
		stdin,
		limits,
	});
}
