/** Limits for one sandboxed process tree. Every field is finite and positive (see {@link checkLimits}). */
export interface BoxLimits {
	/** RLIMIT_CPU per process, seconds (SIGXCPU, then SIGKILL). */
	readonly cpuSeconds: number;
	/** Wall clock for the whole tree, milliseconds; the cgroup is killed when it expires. */
	readonly wallMs: number;
	/** Memory + swap for the whole cgroup (tmpfs pages count too), bytes. */
	readonly memoryBytes: number;
	/** Tasks (processes and threads) in the cgroup. */
	readonly pids: number;
	/** Cap per stream (stdout, stderr) read through the pipes, bytes. */
	readonly outputBytes: number;
	/** RLIMIT_FSIZE, bytes. */
	readonly fileSizeBytes: number;
	/** RLIMIT_NOFILE. */
	readonly openFiles: number;
	/** Size of the box's tmpfs (the only writable place), bytes. */
	readonly tmpfsBytes: number;
}

/** Limits of a run: one set for each input's run, another (longer, larger) for compiling. */
export interface Limits {
	readonly run: BoxLimits;
	readonly compile: BoxLimits;
}

const MiB = 1024 * 1024;

/** The runner's defaults: 2 s CPU / 5 s wall / 256 MiB per run; 20 s wall / 1 GiB to compile (rustc and javac need it). */
export function defaultLimits(): Limits {
	return Object.freeze({
		run: Object.freeze({
			cpuSeconds: 2,
			wallMs: 5_000,
			memoryBytes: 256 * MiB,
			pids: 64,
			outputBytes: 1 * MiB,
			fileSizeBytes: 16 * MiB,
			openFiles: 256,
			tmpfsBytes: 64 * MiB,
		}),
		compile: Object.freeze({
			cpuSeconds: 20,
			wallMs: 30_000,
			memoryBytes: 1024 * MiB,
			pids: 128,
			outputBytes: 64 * 1024,
			fileSizeBytes: 128 * MiB,
			openFiles: 512,
			tmpfsBytes: 256 * MiB,
		}),
	});
}

// Upper bounds so that no configuration can make a limit effectively unlimited.
const CEILING: BoxLimits = {
	cpuSeconds: 600,
	wallMs: 900_000,
	memoryBytes: 16 * 1024 * MiB,
	pids: 4096,
	outputBytes: 256 * MiB,
	fileSizeBytes: 4 * 1024 * MiB,
	openFiles: 65_536,
	tmpfsBytes: 4 * 1024 * MiB,
};

/** Throws when a limit is zero, negative, not an integer, or above its ceiling: a limit is never "unlimited". */
export function checkLimits(limits: Limits): Limits {
	for (const phase of ["run", "compile"] as const) {
		const box = limits[phase];
		for (const key of Object.keys(CEILING) as (keyof BoxLimits)[]) {
			const value = box?.[key];
			if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0 || value > CEILING[key]) {
				throw new RangeError(`limits.${phase}.${key} must be an integer in 1..${CEILING[key]}, got ${String(value)}`);
			}
		}
	}
	return limits;
}
