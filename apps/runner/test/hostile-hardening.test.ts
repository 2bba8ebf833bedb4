import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RunResult } from "@tandem/run-queue";
import { beforeAll, describe, expect, it } from "vitest";
import { sweepOrphanBoxes } from "../src/pool/sweepOrphanBoxes.ts";
import { checkHostTools, runBox } from "../src/sandbox/box.ts";
import { boxUidRange } from "../src/sandbox/boxUids.ts";
import { prepareSandbox } from "../src/sandbox/executeJob.ts";
import { initCgroups } from "../src/sandbox/runCgroup.ts";
import { expectHostClean, hostProcessesWith, run, TEST_LIMITS } from "./support/sandboxHarness.ts";

// Holes found by probing an earlier sandbox (/work/notes/sandbox-findings.md), each closed and kept closed.

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "support/runJobChild.ts");

/** Start a runner process through bash with extra inherited descriptors open (fds `leak`, not close-on-exec). */
function startChildRunner(language: string, code: string, leak: readonly number[] = []) {
	const opens = leak.map((fd) => `exec ${fd}>/dev/null;`).join(" ");
	const child = spawn("/bin/bash", ["--norc", "-c", `${opens} exec "$0" "$@"`, process.execPath, CHILD, language], {
		stdio: ["ignore", "pipe", "pipe"],
		env: { ...process.env, RUN_JOB_CODE: code },
	});
	let out = "";
	let err = "";
	child.stdout.on("data", (c: Buffer) => {
		out += c.toString();
	});
	child.stderr.on("data", (c: Buffer) => {
		err += c.toString();
	});
	const done = new Promise<{ result?: RunResult; stderr: string; signal: NodeJS.Signals | null }>((resolve) => {
		child.once("close", (code, signal) =>
			resolve({ ...(code === 0 ? { result: JSON.parse(out) as RunResult } : {}), stderr: err, signal }),
		);
	});
	return { child, done };
}

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
	for (let i = 0; i < 200; i++) {
		const v = probe();
		if (v !== undefined) return v;
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error(`never happened: ${what}`);
}

function statusField(pid: number, field: string): string | undefined {
	try {
		const line = readFileSync(`/proc/${pid}/status`, "utf8")
			.split("\n")
			.find((l) => l.startsWith(`${field}:`));
		return line?.slice(field.length + 1).trim();
	} catch {
		return undefined;
	}
}

beforeAll(initCgroups);

/** Every live descendant of `root` (the wrapper, bwrap, bwrap's init, the program...). */
function descendants(root: number): number[] {
	const parent = new Map<number, number>();
	for (const e of readdirSync("/proc")) {
		if (!/^\d+$/.test(e)) continue;
		const ppid = Number(statusField(Number(e), "PPid"));
		if (ppid) parent.set(Number(e), ppid);
	}
	const found: number[] = [];
	for (const pid of parent.keys()) {
		for (let p = parent.get(pid); p !== undefined; p = parent.get(p)) {
			if (p === root) {
				found.push(pid);
				break;
			}
		}
	}
	return found;
}

const OPEN_FDS_PY = [
	"import os",
	"open_fds = []",
	"for fd in range(3, 1024):",
	"    try:",
	"        os.fstat(fd); open_fds.append(fd)",
	"    except OSError:",
	"        pass",
	"print('open', open_fds)",
].join("\n");

describe("file descriptors", () => {
	it("the program holds only 0, 1 and 2, even when the runner inherited others", async () => {
		const { done } = startChildRunner("python", OPEN_FDS_PY, [7, 9, 251, 300]);
		const { result, stderr } = await done;
		expect(result?.status, stderr).toBe("ok");
		expect(result?.runs[0]?.stdout).toBe("open []\n");
	});

	it("the compiler holds only 0, 1 and 2 (not the artefact or status pipes)", async () => {
		const o = await runBox({
			tag: "compile-fds",
			argv: ["/usr/bin/python3", "-I", "-S", "-c", `${OPEN_FDS_PY}\nopen('/box/out', 'w').write('built')`],
			files: [],
			stdin: "",
			limits: TEST_LIMITS.compile,
			artifact: { path: "/box/out", maxBytes: 1024 },
		});
		expect(o.stdout, o.stderr).toBe("open []\n");
		expect(o.artifact?.toString()).toBe("built");
		await expectHostClean();
	});
});

describe("host uid", () => {
	it("RELIABILITY 49: every process of the box, bwrap included, runs as the box's own uid from the range, never root or nobody", async () => {
		const marker = `9873${process.pid}`;
		const pending = run("bash", `sleep 1.${marker} & wait\n`);
		const sleeper = await until(() => hostProcessesWith(`sleep 1.${marker}`)[0], "the box's sleep on the host");
		const chain: { pid: number; uid?: string }[] = [];
		// From the program up to (not including) this runner: monitor, bwrap's init, bwrap, the dropped wrapper.
		for (let pid = sleeper; pid !== process.pid && pid > 1; ) {
			chain.push({ pid, uid: statusField(pid, "Uid") });
			pid = Number(statusField(pid, "PPid"));
		}
		await pending;
		expect(chain.length).toBeGreaterThanOrEqual(4);
		const { base, count } = boxUidRange();
		const uid = Number(chain[0]?.uid?.split("\t")[0]);
		expect(uid).toBeGreaterThanOrEqual(base);
		expect(uid).toBeLessThan(base + count);
		for (const p of chain) expect(p.uid, JSON.stringify(chain)).toBe(`${uid}\t${uid}\t${uid}\t${uid}`);
		await expectHostClean();
	});
});

describe("RELIABILITY 13: nested user namespaces", () => {
	it("unshare -U -r fails inside the box", async () => {
		const result = await run("bash", "unshare -U -r id && echo NESTED || echo refused\n");
		expect(result.runs[0]?.stdout).toBe("refused\n");
	});
});

describe("exit codes and signals", () => {
	it("exit(137) is a runtime error with exit code 137, not a kill", async () => {
		const result = await run("python", "import sys\nsys.exit(137)\n");
		expect(result.status).toBe("runtime_error");
		expect(result.runs[0]).toMatchObject({ exitCode: 137, signal: null });
	});

	it("exit(152) is not read as SIGXCPU, so it is no timeout", async () => {
		const result = await run("c", "#include <stdlib.h>\nint main(void){ exit(152); }\n");
		expect(result.status).toBe("runtime_error");
		expect(result.runs[0]).toMatchObject({ exitCode: 152, signal: null });
	});

	it("a program killed by a signal reports the signal and no exit code", async () => {
		const result = await run("python", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n");
		expect(result.status).toBe("runtime_error");
		expect(result.runs[0]).toMatchObject({ exitCode: null, signal: "SIGKILL" });
		const segv = await run("c", "int main(void){ volatile int *p = 0; return *p; }\n");
		expect(segv.runs[0]).toMatchObject({ exitCode: null, signal: "SIGSEGV" });
	});
	it("a program cannot forge the exit report through its parent's descriptors", async () => {
		// The monitor (the program's parent) holds the report's socket: neither /proc/<pid>/fd (a socket
		// cannot be reopened there) nor pidfd_getfd (the monitor is non-dumpable) hands it over.
		const code = [
			"import ctypes, glob, os, signal, socket",
			"libc = ctypes.CDLL(None, use_errno=True)",
			"forged = 0",
			"for f in glob.glob('/proc/[0-9]*/fd/*'):",
			"    try:",
			"        fd = os.open(f, os.O_WRONLY | os.O_NONBLOCK); os.write(fd, b'exit 0\\n'); os.close(fd); forged += 1",
			"    except OSError:",
			"        pass",
			"pidfd = libc.syscall(434, os.getppid(), 0)",
			"for n in range(3, 64):",
			"    fd = libc.syscall(438, pidfd, n, 0)",
			"    if fd >= 0:",
			"        try:",
			"            os.write(fd, b'exit 0\\n'); forged += 1",
			"        except OSError:",
			"            pass",
			"print('forged', forged, 'errno', ctypes.get_errno(), flush=True)",
			"os.kill(os.getpid(), signal.SIGKILL)",
		].join("\n");
		const result = await run("python", code);
		expect(result.runs[0]?.stdout).toContain("forged 0");
		expect(result.status).toBe("runtime_error");
		expect(result.runs[0]).toMatchObject({ exitCode: null, signal: "SIGKILL" });
	});
});

describe("orphans", () => {
	it("no box process outlives a runner that is SIGKILLed mid-run", async () => {
		const marker = `9874${process.pid}`;
		const { child, done } = startChildRunner("bash", `sleep 2.${marker} & sleep 3.${marker}\n`);
		await until(() => (hostProcessesWith(`sleep 3.${marker}`).length > 0 ? true : undefined), "the box running");
		const boxPids = descendants(child.pid as number);
		// bash exec'd node, whose children are the box's wrapper chain: bwrap, its init, monitor, shell, sleeps.
		expect(boxPids.length).toBeGreaterThanOrEqual(5);
		child.kill("SIGKILL");
		expect((await done).signal).toBe("SIGKILL");
		await new Promise((r) => setTimeout(r, 1000));
		expect(hostProcessesWith(marker)).toEqual([]);
		// A zombie is dead (only its exit status is left for whoever adopted it to collect).
		const alive = (pid: number) => /^[^Z]/.test(statusField(pid, "State") ?? "Z");
		expect(boxPids.filter(alive)).toEqual([]);
		// The dead runner's cgroups are the next runner's to sweep.
		await sweepOrphanBoxes();
	});
});

describe("boot", () => {
	it("finds every tool of the wrapper chain on this host", async () => {
		expect(() => checkHostTools()).not.toThrow();
		await expect(prepareSandbox()).resolves.toBeUndefined();
	});
});
