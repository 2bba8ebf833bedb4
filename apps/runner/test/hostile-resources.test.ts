import { describe, expect, it } from "vitest";
import { runBox } from "../src/sandbox/box.ts";
import { checkLimits, defaultLimits } from "../src/sandbox/limits.ts";
import {
	expectHostClean,
	hostProcessesWith,
	KERNEL_COUNTED_LIMITS,
	run,
	settledHostProcessesWith,
	TEST_LIMITS,
	TEST_RUN_LIMITS,
} from "./support/sandboxHarness.ts";

// RELIABILITY 1–5: every limit comes from our cgroups and rlimits, and each has a hostile test.

async function expectNextRunUnaffected(): Promise<void> {
	const next = await run(
		"python",
		"import os\nprint(sorted(os.listdir('/tmp')), sorted(os.listdir('/box')))\n",
		[""],
		KERNEL_COUNTED_LIMITS,
	);
	expect(next.status).toBe("ok");
	expect(next.runs[0]?.stdout.trim()).toBe("[] ['main.py']");
	await expectHostClean();
}

describe("RELIABILITY 1: fork and thread bombs", () => {
	it("stops forking at the per-run pids limit", async () => {
		const code = [
			"import os, time",
			"n = 0",
			"try:",
			"    while True:",
			"        if os.fork() == 0:",
			"            time.sleep(100)",
			"            os._exit(0)",
			"        n += 1",
			"except OSError as e:",
			"    print('forks', n, e.errno)",
		].join("\n");
		const result = await run("python", code);
		expect(result.status, JSON.stringify(result)).toBe("ok");
		const [, forks, errno] = result.runs[0]?.stdout.trim().split(" ") ?? [];
		expect(Number(forks)).toBeLessThan(TEST_RUN_LIMITS.pids);
		expect(errno).toBe("11"); // EAGAIN from the pids cgroup
		expect(await settledHostProcessesWith("time.sleep(100)")).toEqual([]);
		await expectNextRunUnaffected();
	});

	it("ends a classic shell fork bomb and leaves no process behind", async () => {
		const result = await run("bash", ":(){ :|:& };:\nsleep 5\n");
		expect(["timeout", "runtime_error", "ok"]).toContain(result.status);
		await expectHostClean();
		await expectNextRunUnaffected();
	});

	it("stops a thread bomb at the pids limit", async () => {
		const code = [
			"import threading, time",
			"n = 0",
			"try:",
			"    while True:",
			"        threading.Thread(target=time.sleep, args=(100,), daemon=True).start()",
			"        n += 1",
			"except RuntimeError:",
			"    print('threads', n)",
		].join("\n");
		const result = await run("python", code);
		expect(result.status, JSON.stringify(result)).toBe("ok");
		expect(Number(result.runs[0]?.stdout.trim().split(" ")[1])).toBeLessThan(TEST_RUN_LIMITS.pids);
		await expectHostClean();
	});
});

describe("RELIABILITY 2: memory bombs", () => {
	it("kills a heap bomb with memory_limit", async () => {
		const result = await run(
			"python",
			"a = []\nwhile True:\n    a.append(bytearray(8 * 1024 * 1024))\n",
			[""],
			KERNEL_COUNTED_LIMITS,
		);
		expect(result.status, JSON.stringify(result)).toBe("memory_limit");
		expect(result.runs[0]?.memoryKb ?? 0).toBeLessThanOrEqual(TEST_RUN_LIMITS.memoryBytes / 1024);
		await expectNextRunUnaffected();
	});

	it("kills a touched static array larger than the limit with memory_limit", async () => {
		const code =
			"#include <string.h>\nstatic char big[512 << 20];\nint main(void){memset(big, 1, sizeof big);return big[12345];}\n";
		const result = await run("c", code, [""], KERNEL_COUNTED_LIMITS);
		expect(result.status, JSON.stringify(result)).toBe("memory_limit");
		await expectHostClean();
	});

	it("judges memory_limit from the cgroup's OOM count even when time runs out afterwards", async () => {
		// The bomb is OOM-killed first (the kernel counts it, whatever the load); the script then spins
		// until the tree's CPU limit. Both limits were hit: memory first, and the verdict says so.
		const code = "python3 -c 'a = []\nwhile True: a.append(bytearray(8 << 20))'\nwhile :; do :; done\n";
		const result = await run("bash", code, [""], KERNEL_COUNTED_LIMITS);
		expect(result.status, JSON.stringify(result)).toBe("memory_limit");
		await expectHostClean();
	});

	it("counts tmpfs writes against the memory limit", async () => {
		// Each tmpfs alone fits its size cap (48 MiB); together they exceed the 96 MiB memory limit.
		const code =
			"for d in /tmp /dev/shm /box; do for i in 1 2 3 4 5 6; do head -c 7M /dev/zero > $d/fill$i || echo fail $d; done; done\necho done\n";
		const result = await run("bash", code, [""], KERNEL_COUNTED_LIMITS);
		expect(["memory_limit", "runtime_error"]).toContain(result.status);
		expect(result.runs[0]?.stdout).not.toContain("done");
		await expectNextRunUnaffected();
	});
});

describe("RELIABILITY 3: CPU and wall clock", () => {
	it("stops a busy loop with timeout", async () => {
		const result = await run("python", "while True:\n    pass\n");
		expect(result.status, JSON.stringify(result)).toBe("timeout");
		await expectHostClean();
	});

	it("stops several busy processes with timeout", async () => {
		const result = await run("bash", "for i in 1 2 3 4; do (while :; do :; done) & done\nwait\n");
		expect(result.status, JSON.stringify(result)).toBe("timeout");
		expect(await settledHostProcessesWith("while :; do :; done")).toEqual([]);
		await expectHostClean();
	});

	it("stops sleep, pause and SIGSTOP at the wall limit", async () => {
		for (const code of ["sleep 1000\n", "python3 -c 'import signal; signal.pause()'\n", "kill -STOP $$\n"]) {
			const result = await run("bash", code);
			expect(result.status, `${code}: ${JSON.stringify(result)}`).toBe("timeout");
			await expectHostClean();
		}
	});

	it("refuses limits that are zero, negative or unbounded", () => {
		const base = defaultLimits();
		for (const bad of [0, -1, Number.POSITIVE_INFINITY, Number.NaN, 1e15]) {
			expect(() => checkLimits({ ...base, run: { ...base.run, cpuSeconds: bad } })).toThrow(RangeError);
			expect(() => checkLimits({ ...base, compile: { ...base.compile, memoryBytes: bad } })).toThrow(RangeError);
		}
		expect(checkLimits(base)).toBe(base);
	});
});

describe("RELIABILITY 4: output floods", () => {
	it("caps stdout with output_limit and keeps the runner's memory flat", async () => {
		const before = process.memoryUsage().rss;
		const result = await run("python", "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n");
		expect(result.status).toBe("output_limit");
		expect(result.runs[0]?.truncated).toBe(true);
		expect(result.runs[0]?.stdout.length).toBe(TEST_RUN_LIMITS.outputBytes);
		expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
		await expectHostClean();
	});

	it("caps stderr with output_limit", async () => {
		const result = await run("bash", "yes error >&2\n");
		expect(result.status).toBe("output_limit");
		expect(result.runs[0]?.stderr.length).toBe(TEST_RUN_LIMITS.outputBytes);
		await expectHostClean();
	});

	it("caps compiler output with output_limit", async () => {
		const code = `${Array.from({ length: 4000 }, (_, i) => `#warning flood ${i} ${"w".repeat(60)}`).join("\n")}\nint main(void){return 0;}\n`;
		const result = await run("c", code);
		expect(result.status, JSON.stringify(result.compile?.status)).toBe("output_limit");
		expect(result.compile?.output.length).toBeLessThanOrEqual(2 * TEST_LIMITS.compile.outputBytes + 100);
		await expectHostClean();
	});
});

describe("RELIABILITY 5: disk, inodes and file descriptors", () => {
	it("stops a file larger than the file-size limit", async () => {
		const result = await run("bash", "head -c 100M /dev/zero > /box/big; echo rc=$?\n");
		expect(result.runs[0]?.stdout).not.toContain("rc=0");
		await expectNextRunUnaffected();
	});

	it("fills a tmpfs only up to its size", async () => {
		const code = "for i in $(seq 1 20); do head -c 4M /dev/zero > /tmp/f$i || { echo full at $i; break; }; done\n";
		const result = await run("bash", code);
		expect(result.runs[0]?.stdout).toMatch(/full at \d+/);
		await expectNextRunUnaffected();
	});

	it("stops an inode flood", async () => {
		const result = await run(
			"python",
			"import os\nn=0\ntry:\n    while n < 10**7:\n        open(f'/tmp/{n}', 'w').close(); n += 1\nexcept OSError as e:\n    print('stopped', e.errno)\n",
		);
		expect(["ok", "timeout", "memory_limit"]).toContain(result.status);
		await expectNextRunUnaffected();
	});

	it("limits open files", async () => {
		const result = await run(
			"python",
			"fs=[]\ntry:\n    while True: fs.append(open('/dev/null'))\nexcept OSError as e:\n    print(len(fs), e.errno)\n",
		);
		expect(result.status).toBe("ok");
		const [count, errno] = result.runs[0]?.stdout.trim().split(" ") ?? [];
		expect(Number(count)).toBeLessThan(TEST_RUN_LIMITS.openFiles);
		expect(errno).toBe("24"); // EMFILE
		await expectHostClean();
	});
});

describe("box level", () => {
	it("removes the cgroup even when the program cannot start", async () => {
		const o = await runBox({ tag: "missing", argv: ["/nonexistent"], files: [], stdin: "", limits: TEST_RUN_LIMITS });
		expect(o.exitCode).not.toBe(0);
		await expectHostClean();
	});
});
