import type { BoxBind, BoxOutcome } from "../sandbox/box.ts";
import type { BoxLimits } from "../sandbox/limits.ts";

/** How to build a program in the compile box; the artefact is carried to each run box by the runner. */
export interface CompileStep {
	readonly argv: readonly string[];
	/** Box path the compiler leaves the artefact at (one regular file; Java packs its classes into a tar). */
	readonly artifact: string;
}

/** Per-program names: the source file and, for Java, the class to run (RELIABILITY 42). */
export interface ProgramEntry {
	readonly sourceFile: string;
	readonly mainClass?: string;
}

/** One row of the language table (STYLE: adding a language is adding a file). */
export interface Language {
	/** Id from packages/crdt-schema LANGUAGES. */
	readonly id: string;
	readonly name: string;
	/** File name of the source inside the box's work dir (unless {@link Language.entryOf} names another). */
	readonly sourceFile: string;
	/** Names derived from the program itself (Java: the file after the public class, the class with main). */
	readonly entryOf?: (code: string) => ProgramEntry;
	/** Host executable whose presence makes the language available; undefined when not installed. */
	readonly toolchain: () => string | undefined;
	/** Host command printing the version (run once, unsandboxed: it is our toolchain, not user code). */
	readonly versionProbe: () => readonly string[];
	readonly compile?: (limits: BoxLimits, entry: ProgramEntry) => CompileStep;
	/** Box path the artefact is written to in each run box (compiled languages). */
	readonly runArtifact?: string;
	readonly run: (limits: BoxLimits, entry: ProgramEntry) => readonly string[];
	readonly env?: (limits: BoxLimits) => Readonly<Record<string, string>>;
	/** Host paths bound read-only (toolchains outside /usr, config under /etc). */
	readonly binds?: () => readonly BoxBind[];
	/** Interpreted languages: a failed run that is really a syntax error, reported as compile_error. */
	readonly isSyntaxError?: (outcome: BoxOutcome) => boolean;
	/** A failed run that is the runtime's own out-of-memory error (heap caps below the cgroup limit). */
	readonly isOutOfMemory?: (outcome: BoxOutcome) => boolean;
}

/** Megabytes for heap flags: a share of the box's memory limit so the runtime fails before the cgroup. */
export function heapMb(limits: BoxLimits, share: number): number {
	return Math.max(16, Math.floor((limits.memoryBytes * share) / (1024 * 1024)));
}
