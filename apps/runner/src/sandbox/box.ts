import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { accessSync, constants, lstatSync } from "node:fs";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { acquireBoxUid, boxUidRange, releaseBoxUid } from "./boxUids.ts";
import { reachableSource } from "./hostMirror.ts";
import type { BoxLimits } from "./limits.ts";
import { createRunCgroup, type RunCgroup } from "./runCgroup.ts";

/** A file the runner writes into the box's tmpfs before the program starts (through a pipe, never a host path). */
export interface BoxFile {
	/** Absolute path inside the box, under {@link BOX_DIR}. */
	readonly path: string;
	readonly content: string | Buffer;
	readonly executable?: boolean;
}

/** A host path bound read-only into the box. */
export interface BoxBind {
	readonly src: string;
	readonly dest: string;
}

export interface BoxSpec {
	/** Names the cgroup, for debugging. */
	readonly tag: string;
	/** Program and arguments, as seen inside the box. */
	readonly argv: readonly string[];
	/** Environment on top of the base allow-list (PATH, HOME, LANG, TMPDIR). */
	readonly env?: Readonly<Record<string, string>>;
	readonly files: readonly BoxFile[];
	readonly binds?: readonly BoxBind[];
	readonly stdin: string;
	readonly limits: BoxLimits;
	/** Read a file the program leaves at this box path back out through a pipe (compiled artefacts). */
	readonly artifact?: { readonly path: string; readonly maxBytes: number };
}

export interface BoxOutcome {
	/** False when the sandbox itself failed to start (an internal error, not the program's fault). */
	readonly started: boolean;
	readonly exitCode: number | null;
	readonly signal: string | null;
	readonly stdout: string;
	readonly stderr: string;
	readonly timeMs: number;
	readonly cpuMs?: number;
	readonly memoryKb?: number;
	readonly wallTimeout: boolean;
	readonly cpuTimeout: boolean;
	/** The cgroup counted the tree at its memory limit (see RunCgroup.memoryLimitHit), whatever else stopped it. */
	readonly memoryLimit: boolean;
	readonly outputLimited: boolean;
	readonly artifact?: Buffer;
}

/** The box's work directory and HOME: a private size-limited tmpfs. */
export const BOX_DIR = "/box";

const BWRAP = "/usr/bin/bwrap";
// The wrapper chain: bash (fd closing), setpriv (uid drop, pdeathsig), bwrap, perl (the exit monitor).
const HOST_TOOLS = ["/bin/bash", "/usr/bin/setpriv", BWRAP, "/usr/bin/perl"] as const;

/** The seccomp filter's generator (libseccomp through Debian's python3-seccomp). */
const SECCOMP_GENERATOR = path.join(import.meta.dirname, "seccompFilter.py");
let seccompProgram: Buffer | undefined;

/**
 * The box's seccomp filter as a compiled BPF program (RELIABILITY 49: io_uring, AF_VSOCK, keyrings and
 * Docker's default deny set fail with EPERM), built once per process by seccompFilter.py. Throws a
 * clear error when it cannot be built: the runner refuses to run code without it.
 */
export function seccompFilter(): Buffer {
	if (seccompProgram) return seccompProgram;
	let program: Buffer;
	try {
		program = execFileSync("/usr/bin/python3", ["-I", SECCOMP_GENERATOR], {
			stdio: ["ignore", "pipe", "pipe"],
			timeout: 60_000,
			env: { PATH: "/usr/bin:/bin" },
		});
	} catch (e: unknown) {
		const stderr = String((e as { stderr?: Buffer }).stderr ?? "").trim();
		throw new Error(
			`runner: cannot build the sandbox's seccomp filter, refusing to run code without it (install python3-seccomp; scripts/setup-system.sh does): ${stderr || (e instanceof Error ? e.message : String(e))}`,
		);
	}
	// A classic BPF program is a whole number of 8-byte instructions.
	if (program.length === 0 || program.length % 8 !== 0) {
		throw new Error(`runner: the seccomp filter generator wrote ${program.length} bytes, not a BPF program`);
	}
	seccompProgram = program;
	return program;
}

/** Throws with a clear message when a tool the box needs is missing on this host (checked at boot), or the seccomp filter cannot be built. */
export function checkHostTools(): void {
	const missing = HOST_TOOLS.filter((tool) => {
		try {
			accessSync(tool, constants.X_OK);
			return false;
		} catch {
			return true;
		}
	});
	if (missing.length > 0) throw new Error(`runner: cannot isolate runs, missing ${missing.join(", ")}`);
	seccompFilter();
	boxUidRange();
}
const BASE_PATH = "/usr/local/bin:/usr/bin:/bin";

// Host system dirs bound read-only: merged-/usr hosts have symlinks, others real directories.
const SYSTEM_ARGS: readonly string[] = (() => {
	const args = ["--ro-bind", "/usr", "/usr"];
	for (const dir of ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"]) {
		try {
			const st = lstatSync(dir);
			if (st.isSymbolicLink()) args.push("--symlink", `usr${dir}`, dir);
			else if (st.isDirectory()) args.push("--ro-bind", dir, dir);
		} catch {
			// Absent on this host.
		}
	}
	// Only what toolchains need from /etc: the dynamic linker cache and the alternatives links (cc, java, php).
	for (const etc of ["/etc/ld.so.cache", "/etc/alternatives"]) {
		try {
			lstatSync(etc);
			args.push("--ro-bind", etc, etc);
		} catch {
			// Absent on this host.
		}
	}
	return args;
})();

/**
 * The box user inside the box: uid and gid 65534. On the host each box runs as its own uid from
 * boxUids.ts (never root, never the host's shared `nobody`), mapped to this one by bwrap.
 */
const BOX_UID = "65534";

// The wrapper (bash: dash cannot name fds above 9; --norc: bash reads ~/.bashrc when stdin is a socket) runs as root: it puts itself into the run's cgroups,
// sets rlimits and closes every descriptor the runner inherited except the box's own pipes. Then it
// drops to the box user on the host and becomes bwrap, which runs unprivileged in its own user
// namespace: the box is limited from its first instruction and its uid is nobody's on the host.
// --pdeathsig: bwrap dies with the runner even if the runner is SIGKILLed (bwrap's own
// --die-with-parent only covers its sandboxed child). bash's ulimit -f counts KiB. The CPU hard limit
// is one second above the soft one so SIGXCPU (a recognisable timeout) comes before SIGKILL.
const WRAPPER = [
	'for f in $TANDEM_CGROUP_PROCS; do echo $$ > "$f" || exit 125; done',
	'ulimit -S -t "$TANDEM_CPU" && ulimit -H -t "$TANDEM_CPU_HARD" || exit 125',
	'ulimit -f "$TANDEM_FSIZE_KIB" && ulimit -n "$TANDEM_NOFILE" && ulimit -c 0 || exit 125',
	'for f in /proc/$$/fd/*; do n=${f##*/}; case " $TANDEM_KEEP_FDS " in *" $n "*) ;; *) eval "exec $n>&-";; esac; done',
	'exec /usr/bin/setpriv --reuid="$TANDEM_BOX_UID" --regid="$TANDEM_BOX_UID" --clear-groups --inh-caps=-all --pdeathsig KILL -- "$@"',
].join("\n");

// Only the build's final cat writes the artefact pipe: the compiler itself never holds it.
const ARTIFACT_SCRIPT = 'art=$1; shift; "$@" 4>&-; rc=$?; if [ $rc -eq 0 ]; then exec cat -- "$art" >&4; fi; exit $rc';

// The box's first process: it reports how the program ended ("exit N" or "signal N") on its own pipe,
// because bwrap folds a signal into exit code 128 + N, the same as exit(128 + N). It marks that pipe and
// bwrap's status pipe close-on-exec (the program never holds them) and makes itself non-dumpable, so
// the program, running as the same uid, cannot reopen them through /proc/<pid>/fd. 157 is prctl on
// x86_64 and 4 PR_SET_DUMPABLE; 2 and 1 are F_SETFD and FD_CLOEXEC (no modules: perl starts in ~1 ms).
const MONITOR = [
	"syscall(157, 4, 0);",
	"my $fd = shift @ARGV;",
	'open(my $st, ">&=", $fd) or exit 125; fcntl($st, 2, 1);',
	'if (open(my $js, ">&=", 3)) { fcntl($js, 2, 1) }',
	"my $pid = fork(); exit 125 unless defined $pid;",
	'if ($pid == 0) { exec { $ARGV[0] } @ARGV or do { print STDERR "$ARGV[0]: $!\\n"; exit 127 } }',
	"waitpid($pid, 0); my $w = $?;",
	'syswrite($st, ($w & 127) ? "signal " . ($w & 127) . "\\n" : "exit " . ($w >> 8) . "\\n");',
	"exit(($w & 127) ? 128 + ($w & 127) : $w >> 8);",
].join(" ");

// How often the tree's CPU time is checked against the limit: a tenth of the smallest limit (1 s).
const CPU_POLL_MS = 100;

const SIGNALS: Record<number, string> = {
	1: "SIGHUP",
	2: "SIGINT",
	3: "SIGQUIT",
	4: "SIGILL",
	5: "SIGTRAP",
	6: "SIGABRT",
	7: "SIGBUS",
	8: "SIGFPE",
	9: "SIGKILL",
	11: "SIGSEGV",
	13: "SIGPIPE",
	14: "SIGALRM",
	15: "SIGTERM",
	24: "SIGXCPU",
	25: "SIGXFSZ",
	31: "SIGSYS",
};

/** How bwrap reports a signalled process: exit code 128 + signal number (only a fallback, see MONITOR). */
export function signalOfExitCode(code: number | null): string | null {
	if (code === null || code <= 128 || code > 128 + 64) return null;
	return signalName(code - 128);
}

function signalName(n: number): string {
	return SIGNALS[n] ?? `SIG${n}`;
}

/** The monitor's report: how the program itself ended, or undefined when the monitor was killed first. */
export function parseExitReport(report: string): { exitCode: number | null; signal: string | null } | undefined {
	const m = /^(exit|signal) (\d+)\n/.exec(report);
	if (!m) return undefined;
	const n = Number(m[2]);
	return m[1] === "exit" ? { exitCode: n, signal: null } : { exitCode: null, signal: signalName(n) };
}

// fd 3: bwrap's JSON status (proves the sandbox started); fd 4: artefact; fd 5: the monitor's exit
// report; fd 6: the seccomp filter (bwrap reads it); fd 7..: input files (bwrap closes each after
// copying it into the box).
const STATUS_FD = 3;
const ARTIFACT_FD = 4;
const EXIT_FD = 5;
const SECCOMP_FD = 6;
const FIRST_FILE_FD = 7;

// Pre-started boxes: per shape (argv, env, binds, file names, limits) at most this many, in all at most
// MAX_WARM_BOXES. Each is a fresh box used once; it already sits in its cgroup with its namespaces and
// mounts made, blocked in bwrap reading the first input file from its pipe.
const WARM_PER_SHAPE = 2;
const MAX_WARM_BOXES = 12;

interface ExitInfo {
	readonly code: number | null;
	readonly signal: NodeJS.Signals | null;
	readonly error?: Error;
}

/** A box whose sandbox is being set up and waits for its input files and stdin. */
interface LaunchedBox {
	readonly child: ChildProcess;
	readonly cgroup: RunCgroup;
	/** The box's host uid, given back once its cgroup is removed. */
	readonly uid: number;
	readonly exit: Promise<ExitInfo>;
	readonly exited: () => boolean;
	readonly stdout: () => Buffer;
	readonly stderr: () => Buffer;
	readonly status: () => Buffer;
	readonly exitReport: () => Buffer;
	readonly artifact: (() => Buffer | undefined) | undefined;
	readonly outputLimited: () => boolean;
	readonly killTree: () => void;
}

function shapeKey(spec: BoxSpec): string {
	return JSON.stringify([
		spec.argv,
		spec.env,
		spec.binds,
		spec.files.map((f) => [f.path, f.executable === true]),
		spec.limits,
		spec.artifact,
	]);
}

const warmBoxes = new Map<string, LaunchedBox[]>();
const pendingRefills = new Set<NodeJS.Immediate>();
/** Refills waiting for a uid: closeWarmBoxes waits for them, and a refill finishing after it drops its box. */
const launchingRefills = new Set<Promise<void>>();
let warmGeneration = 0;

/** Kill what is left in a box, remove its cgroup, then give its uid back (never while a process may hold it). */
async function disposeBox(box: LaunchedBox): Promise<void> {
	await box.cgroup.destroy();
	releaseBoxUid(box.uid);
}

/** A fresh box under a uid of its own; the uid goes back when the box cannot start. */
async function launchWithUid(spec: BoxSpec): Promise<LaunchedBox> {
	const uid = await acquireBoxUid();
	try {
		return launch(spec, uid);
	} catch (e: unknown) {
		releaseBoxUid(uid);
		throw e;
	}
}
let warmCount = 0;

/** A waiting box must not keep the process alive: its child and pipes are unreferenced until it is used. */
function setRef(box: LaunchedBox, ref: boolean): void {
	if (ref) box.child.ref();
	else box.child.unref();
	for (const stream of box.child.stdio) {
		const socket = stream as { ref?: () => void; unref?: () => void } | null;
		if (ref) socket?.ref?.();
		else socket?.unref?.();
	}
}

function takeWarm(key: string): LaunchedBox | undefined {
	const list = warmBoxes.get(key);
	while (list && list.length > 0) {
		const box = list.shift() as LaunchedBox;
		warmCount--;
		if (!box.exited()) {
			setRef(box, true);
			return box;
		}
		void disposeBox(box).catch(() => {});
	}
	return undefined;
}

const refillsByKey = new Map<string, number>();

function refillWarm(key: string, spec: BoxSpec): void {
	const list = warmBoxes.get(key) ?? [];
	const launching = refillsByKey.get(key) ?? 0;
	if (list.length + launching >= WARM_PER_SHAPE || warmCount >= MAX_WARM_BOXES) return;
	// Counted while it waits for its uid, so concurrent refills cannot pass the bounds.
	warmCount++;
	refillsByKey.set(key, launching + 1);
	const generation = warmGeneration;
	const done: Promise<void> = launchWithUid(spec)
		.then(
			(box) => {
				if (generation !== warmGeneration) {
					// closeWarmBoxes ran meanwhile: this box is not wanted any more.
					box.killTree();
					return disposeBox(box).catch(() => {});
				}
				warmCount--;
				addWarm(key, list, box);
				return undefined;
			},
			() => {
				// A box that cannot start now is started cold on demand (and reports its error then).
				if (generation === warmGeneration) warmCount--;
			},
		)
		.finally(() => {
			launchingRefills.delete(done);
			refillsByKey.set(key, (refillsByKey.get(key) ?? 1) - 1);
		});
	launchingRefills.add(done);
}

function addWarm(key: string, list: LaunchedBox[], box: LaunchedBox): void {
	setRef(box, false);
	list.push(box);
	warmCount++;
	warmBoxes.set(key, list);
	void box.exit.then(() => {
		// Died while waiting (it should not): drop it and its cgroup.
		const at = list.indexOf(box);
		if (at >= 0) {
			list.splice(at, 1);
			warmCount--;
			void disposeBox(box).catch(() => {});
		}
	});
}

// A used box is killed before its outcome is returned; its cgroup is removed after (waiting for the
// killed tasks to leave takes 1-3 ms, seconds on a loaded host). A box holds a slot from its start
// until its cgroup is gone, so boxes being cleaned count against the slots (the pool's concurrency).
const cleanups = new Set<Promise<void>>();
const cleanupErrors: unknown[] = [];
let boxSlots = Number.POSITIVE_INFINITY;
let boxesHeld = 0;
const slotWaiters: (() => void)[] = [];

/** At most `n` boxes run or are being cleaned at once (a pool sets its concurrency). */
export function limitBoxes(n: number): void {
	if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`box limit must be a positive integer, got ${n}`);
	boxSlots = n;
	releaseSlot(0);
}

async function takeSlot(): Promise<void> {
	if (boxesHeld < boxSlots) {
		boxesHeld++;
		return;
	}
	// A released slot passes straight to the next waiter (releaseSlot counts it as held).
	await new Promise<void>((resolve) => slotWaiters.push(resolve));
}

function releaseSlot(n = 1): void {
	boxesHeld -= n;
	while (slotWaiters.length > 0 && boxesHeld < boxSlots) {
		boxesHeld++;
		(slotWaiters.shift() as () => void)();
	}
}

function cleanInBackground(box: LaunchedBox): void {
	const done: Promise<void> = disposeBox(box)
		.catch((e: unknown) => {
			cleanupErrors.push(e);
			console.error(e instanceof Error ? e.message : e);
		})
		.finally(() => {
			cleanups.delete(done);
			releaseSlot();
		});
	cleanups.add(done);
}

/**
 * Wait until every used box's cgroup is removed (shutdown, tests checking the host is clean).
 * Throws when a removal failed since the last call.
 */
export async function settleSandbox(): Promise<void> {
	while (cleanups.size > 0) await Promise.all([...cleanups]);
	const errors = cleanupErrors.splice(0);
	if (errors.length > 0) throw new AggregateError(errors, "runner: could not remove some box cgroups");
}

/** Kill every pre-started box and remove its cgroup, and wait for the used boxes' cleanup (shutdown, and tests checking the host is clean). */
export async function closeWarmBoxes(): Promise<void> {
	for (const pending of pendingRefills) clearImmediate(pending);
	pendingRefills.clear();
	warmGeneration++;
	while (launchingRefills.size > 0) await Promise.all([...launchingRefills]);
	const all = [...warmBoxes.values()].flat();
	warmBoxes.clear();
	warmCount = 0;
	await Promise.all(
		all.map(async (box) => {
			setRef(box, true); // Awaited below: an unreferenced child would let the process exit first.
			box.killTree();
			await box.exit;
			await disposeBox(box);
		}),
	);
	await settleSandbox();
}

/**
 * Run one program in a fresh box: new namespaces, no network, own cgroup, rlimits, private tmpfs.
 * With `warm`, a pre-started box of the same shape is used when one is ready, and another is started
 * for the next run; a box is never used twice.
 */
export async function runBox(spec: BoxSpec & { readonly warm?: boolean }): Promise<BoxOutcome> {
	const key = spec.warm ? shapeKey(spec) : "";
	await takeSlot();
	let box: LaunchedBox;
	try {
		box = (spec.warm ? takeWarm(key) : undefined) ?? (await launchWithUid(spec));
	} catch (e: unknown) {
		releaseSlot();
		throw e;
	}
	try {
		return await feed(box, spec);
	} catch (e: unknown) {
		box.killTree();
		throw e;
	} finally {
		// feed killed every process in the box before returning; removing the cgroup is off this run's path.
		cleanInBackground(box);
		if (spec.warm) {
			// After the result is handed back, so starting the next box is off this run's critical path.
			const pending = setImmediate(() => {
				pendingRefills.delete(pending);
				refillWarm(key, spec);
			});
			pendingRefills.add(pending);
		}
	}
}

function bwrapArgs(spec: BoxSpec): string[] {
	const limits = spec.limits;
	const args: string[] = [
		BWRAP,
		"--unshare-all",
		"--unshare-user",
		"--disable-userns",
		"--die-with-parent",
		"--new-session",
		"--cap-drop",
		"ALL",
		"--uid",
		BOX_UID,
		"--gid",
		BOX_UID,
		"--hostname",
		"box",
		...SYSTEM_ARGS,
	];
	for (const b of spec.binds ?? []) args.push("--ro-bind", reachableSource(b.src), b.dest);
	// /proc/sys read-only: even the box's own namespaced sysctls (hostname, net) stay as set up.
	args.push("--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev");
	const size = String(limits.tmpfsBytes);
	args.push("--perms", "0755", "--size", size, "--tmpfs", BOX_DIR);
	args.push("--perms", "01777", "--size", size, "--tmpfs", "/tmp");
	args.push("--perms", "01777", "--size", size, "--tmpfs", "/dev/shm");
	// Input files come last among the mounts: a pre-started box blocks here until the runner writes them.
	spec.files.forEach((f, i) => {
		args.push("--perms", f.executable ? "0755" : "0644", "--file", String(FIRST_FILE_FD + i), f.path);
	});
	// Nothing but the tmpfs mounts is writable (bwrap's root and /dev would be otherwise).
	args.push("--remount-ro", "/dev", "--remount-ro", "/");
	args.push("--chdir", BOX_DIR, "--clearenv");
	const env: Record<string, string> = { PATH: BASE_PATH, HOME: BOX_DIR, LANG: "C.UTF-8", TMPDIR: "/tmp", ...spec.env };
	for (const [k, v] of Object.entries(env)) args.push("--setenv", k, v);
	args.push("--seccomp", String(SECCOMP_FD));
	args.push("--json-status-fd", String(STATUS_FD), "--", "/usr/bin/perl", "-e", MONITOR, String(EXIT_FD));
	if (spec.artifact) {
		// After a successful build the artefact leaves through a pipe; links inside the box only reach the box.
		args.push("/bin/sh", "-c", ARTIFACT_SCRIPT, "build", spec.artifact.path, ...spec.argv);
	} else {
		args.push(...spec.argv);
	}
	return args;
}

/**
 * `buf` without a UTF-8 sequence that the cut at its end left incomplete (RELIABILITY 40): output cut at
 * a byte limit ends on a character boundary, never with half a character (shown as U+FFFD).
 */
export function cutAtCharBoundary(buf: Buffer): Buffer {
	// A sequence is at most 4 bytes: look back at most 3 bytes for the lead byte of the last one.
	for (let back = 1; back <= Math.min(4, buf.length); back++) {
		const byte = buf[buf.length - back] as number;
		if ((byte & 0xc0) === 0x80) continue; // A continuation byte: the lead byte is further back.
		const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
		return needed > back ? buf.subarray(0, buf.length - back) : buf;
	}
	return buf;
}

function capture(stream: Readable | null | undefined, cap: number, onCap: () => void): () => Buffer {
	const chunks: Buffer[] = [];
	let size = 0;
	let capped = false;
	stream?.on("data", (chunk: Buffer) => {
		const room = cap - size;
		if (chunk.length > room) {
			// One byte past the cap is the proof of a flood; exactly the cap is still a complete output.
			if (room > 0) chunks.push(chunk.subarray(0, room));
			size = cap;
			if (!capped) {
				capped = true;
				onCap();
			}
			return;
		}
		chunks.push(chunk);
		size += chunk.length;
	});
	stream?.on("error", () => {});
	return () => (capped ? cutAtCharBoundary(Buffer.concat(chunks)) : Buffer.concat(chunks));
}

/** Create the cgroup and start the wrapper → bwrap; the box waits for its input files. */
function launch(spec: BoxSpec, uid: number): LaunchedBox {
	const limits = spec.limits;
	const filter = seccompFilter();
	const cgroup = createRunCgroup(spec.tag, limits);
	let child: ChildProcess;
	try {
		const stdio: ("pipe" | "ignore")[] = [
			"pipe",
			"pipe",
			"pipe",
			"pipe",
			spec.artifact ? "pipe" : "ignore",
			"pipe",
			"pipe",
		];
		for (const _ of spec.files) stdio.push("pipe");
		const keep = stdio.flatMap((s, fd) => (s === "pipe" ? [fd] : []));
		child = spawn("/bin/bash", ["--norc", "--noprofile", "-c", WRAPPER, "tandem-box", ...bwrapArgs(spec)], {
			stdio,
			env: {
				TANDEM_CGROUP_PROCS: cgroup.procsFiles.join(" "),
				TANDEM_CPU: String(limits.cpuSeconds),
				TANDEM_CPU_HARD: String(limits.cpuSeconds + 1),
				TANDEM_FSIZE_KIB: String(Math.max(1, Math.floor(limits.fileSizeBytes / 1024))),
				TANDEM_KEEP_FDS: keep.join(" "),
				TANDEM_NOFILE: String(limits.openFiles),
				TANDEM_BOX_UID: String(uid),
			},
		});
		// A few KiB: the pipe holds it whole until bwrap reads it, which it does before it forks the box.
		const seccompPipe = child.stdio.at(SECCOMP_FD) as Writable;
		seccompPipe.on("error", () => {});
		seccompPipe.end(filter);
	} catch (e: unknown) {
		void cgroup.destroy().catch(() => {});
		throw e;
	}
	let exited = false;
	const exit = new Promise<ExitInfo>((resolve) => {
		child.once("error", (error) => {
			exited = true;
			resolve({ code: null, signal: null, error });
		});
		child.once("exit", (code, signal) => {
			exited = true;
			resolve({ code, signal });
		});
	});
	const killTree = () => {
		cgroup.killAll();
		if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
	};
	let outputLimited = false;
	const onOutputCap = () => {
		outputLimited = true;
		killTree();
	};
	let artifactTooLarge = false;
	const artifact = spec.artifact
		? capture(child.stdio[ARTIFACT_FD] as Readable, spec.artifact.maxBytes, () => {
				artifactTooLarge = true;
			})
		: undefined;
	return {
		child,
		cgroup,
		uid,
		exit,
		exited: () => exited,
		stdout: capture(child.stdout, limits.outputBytes, onOutputCap),
		stderr: capture(child.stderr, limits.outputBytes, onOutputCap),
		status: capture(child.stdio[STATUS_FD] as Readable, 64 * 1024, () => {}),
		exitReport: capture(child.stdio.at(EXIT_FD) as Readable | undefined, 64, () => {}),
		artifact: artifact ? () => (artifactTooLarge ? undefined : artifact()) : undefined,
		outputLimited: () => outputLimited,
		killTree,
	};
}

/** Hand the box its files and stdin, enforce the wall and tree-CPU limits, and collect the outcome. */
async function feed(box: LaunchedBox, spec: BoxSpec): Promise<BoxOutcome> {
	const { child, cgroup, killTree } = box;
	const limits = spec.limits;
	const started = performance.now();
	let wallTimeout = false;
	const timer = setTimeout(() => {
		wallTimeout = true;
		killTree();
	}, limits.wallMs);
	// RLIMIT_CPU is per process; the CPU limit is for the whole tree (N busy processes share it).
	let treeCpuTimeout = false;
	const cpuPoll = setInterval(() => {
		if ((cgroup.cpuMs() ?? 0) > limits.cpuSeconds * 1000) {
			treeCpuTimeout = true;
			killTree();
		}
	}, CPU_POLL_MS);

	const writeAll = (stream: Writable | null | undefined, content: string | Buffer) => {
		if (!stream) return;
		stream.on("error", () => {}); // EPIPE when the program does not read its input.
		stream.end(content);
	};
	spec.files.forEach((f, i) => writeAll(child.stdio[FIRST_FILE_FD + i] as Writable, f.content));
	writeAll(child.stdin, spec.stdin);

	const exit = await box.exit;
	const timeMs = Math.round(performance.now() - started);
	// Anything that outlived the box's init (it should not: its pid namespace died with it) goes now,
	// which also closes any pipe a leftover still held open.
	cgroup.killAll();
	await new Promise<void>((resolve) => {
		if (child.stdout?.readableEnded !== false && child.stderr?.readableEnded !== false) resolve();
		child.once("close", () => resolve());
		setTimeout(resolve, 1000).unref();
	});
	clearTimeout(timer);
	clearInterval(cpuPoll);

	const sandboxStarted = box.status().toString("utf8").includes('"child-pid"');
	// Without the monitor's report (it was killed, e.g. by kill -9 -1 or the wall limit), bwrap's code.
	const report = exit.signal ? undefined : parseExitReport(box.exitReport().toString("utf8"));
	const exitCode = report ? report.exitCode : exit.code;
	const cpuMs = cgroup.cpuMs();
	const signal = report ? report.signal : (exit.signal ?? signalOfExitCode(exitCode));
	const cpuTimeout =
		treeCpuTimeout || signal === "SIGXCPU" || (cpuMs !== undefined && cpuMs >= limits.cpuSeconds * 1000);
	const artifact = box.artifact?.();
	return {
		started: sandboxStarted && exit.error === undefined,
		exitCode: exit.signal ? null : exitCode,
		signal,
		stdout: box.stdout().toString("utf8"),
		stderr: (exit.error ? `${exit.error.message}\n` : "") + box.stderr().toString("utf8"),
		timeMs,
		cpuMs,
		memoryKb: cgroup.peakKb(),
		wallTimeout,
		cpuTimeout,
		memoryLimit: cgroup.memoryLimitHit(),
		outputLimited: box.outputLimited(),
		...(artifact ? { artifact } : {}),
	};
}
