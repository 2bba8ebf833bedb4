import type { SandboxLimits } from "../limits.ts";
import type { ReadOnlyBind } from "../sandbox/bwrapArgs.ts";

/** A toolchain that lives outside the bound system dirs, resolved on the host once. */
export interface Toolchain {
	/** Host paths bound read-only into the sandbox (mirrored first if the sandbox user cannot reach them). */
	binds: ReadOnlyBind[];
}

/**
 * One row of the language table: how to compile, how to run, which file name.
 * Commands run inside the sandbox; the source is at /box/<sourceFile>.
 */
export interface LanguageDefinition {
	id: string;
	name: string;
	sourceFile: string;
	/** Compiled languages: the compiler command, run in /box (writable) with compile limits. */
	compile?: (limits: SandboxLimits) => string[];
	/** The program command, run once per input with run limits. */
	run: (limits: SandboxLimits) => string[];
	/** A host command whose output names the version; the first line is used after `parseVersion`. */
	versionProbe: string[];
	parseVersion?: (output: string) => string;
	/** Extra environment on top of PATH, HOME and LANG. */
	env?: Record<string, string>;
	/** Host /etc pieces the toolchain reads (bound read-only when present). */
	etc?: string[];
	/** Locates a toolchain outside /usr; undefined when it is absent on this host. */
	toolchain?: () => Toolchain | undefined;
}

/** First match of a dotted version number. */
export function firstVersion(output: string): string {
	return /\d+(\.\d+)+/.exec(output)?.[0] ?? output.trim().split("\n")[0] ?? "";
}
