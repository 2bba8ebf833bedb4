import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { acquireBoxUid, boxUidRange, releaseBoxUid } from "../src/sandbox/boxUids.ts";
import { expectHostClean, hostProcessesWith, KERNEL_COUNTED_LIMITS, run } from "./support/sandboxHarness.ts";

// RELIABILITY 49: a seccomp filter (libseccomp) denies io_uring, vsock, keyrings and Docker's default
// deny set inside every box; each live box runs under its own host uid.

// Each probe prints "<name> <result>": "ok" when the call succeeded, else the errno's name.
const PROBES = [
	"import ctypes, errno, os, socket",
	"libc = ctypes.CDLL(None, use_errno=True)",
	"def sys(name, nr, *args):",
	"    r = libc.syscall(nr, *args)",
	"    print(name, 'ok' if r >= 0 else errno.errorcode[ctypes.get_errno()])",
	"params = ctypes.create_string_buffer(120)",
	"sys('io_uring_setup', 425, 8, params)",
	"sys('io_uring_enter', 426, 0, 0, 0, 0, 0, 0)",
	"sys('io_uring_register', 427, 0, 0, 0, 0)",
	"sys('keyctl', 250, 0, -3, 0)", // KEYCTL_GET_KEYRING_ID of the session keyring
	"sys('add_key', 248, b'user', b'tandem-probe', b'x', 1, -3)",
	"sys('request_key', 249, b'user', b'tandem-probe', 0, 0)",
	"sys('userfaultfd', 323, 0)",
	"sys('bpf', 321, 0, 0, 0)",
	"sys('perf_event_open', 298, 0, 0, -1, -1, 0)",
	"sys('unshare', 272, 0x20000)",
	"sys('setns', 308, 0, 0)",
	"sys('mount', 165, b'none', b'/tmp', b'tmpfs', 0, 0)",
	"sys('umount2', 166, b'/tmp', 0)",
	"sys('pivot_root', 155, b'/', b'/')",
	"sys('open_by_handle_at', 304, 0, 0, 0)",
	"sys('init_module', 175, 0, 0, 0)",
	"sys('kexec_load', 246, 0, 0, 0, 0)",
	"sys('ptrace', 101, 0, 0, 0, 0)",
	"sys('process_vm_readv', 310, 1, 0, 0, 0, 0, 0)",
	"try:",
	"    socket.socket(40, socket.SOCK_STREAM).close(); print('vsock ok')",
	"except OSError as e:",
	"    print('vsock', errno.errorcode[e.errno])",
	"pid = os.fork()",
	"if pid == 0: os._exit(7)",
	"print('fork', 'ok' if os.waitpid(pid, 0)[1] >> 8 == 7 else 'broken')",
].join("\n");

describe("RELIABILITY 49: seccomp filter", () => {
	it("denies io_uring, AF_VSOCK, keyrings and the container deny set with EPERM; fork still works", async () => {
		const result = await run("python", `${PROBES}\n`, [""], KERNEL_COUNTED_LIMITS);
		expect(result.status, JSON.stringify(result)).toBe("ok");
		const seen = Object.fromEntries(
			(result.runs[0]?.stdout ?? "")
				.trim()
				.split("\n")
				.map((l) => l.split(" ")),
		);
		const { fork, ...denied } = seen;
		expect(fork).toBe("ok");
		expect(Object.keys(denied)).toHaveLength(20);
		for (const [name, outcome] of Object.entries(denied)) expect(`${name} ${outcome}`).toBe(`${name} EPERM`);
		await expectHostClean();
	});
});

describe("RELIABILITY 49: a uid per box", () => {
	it("leases each uid of the range to one holder at a time and gives it back for reuse", async () => {
		const { base, count } = boxUidRange();
		const a = await acquireBoxUid();
		const b = await acquireBoxUid();
		expect(a).not.toBe(b);
		for (const uid of [a, b]) {
			expect(uid).toBeGreaterThanOrEqual(base);
			expect(uid).toBeLessThan(base + count);
		}
		releaseBoxUid(a);
		expect(await acquireBoxUid()).toBe(a);
		releaseBoxUid(a);
		releaseBoxUid(b);
		// Another process on this host cannot lease a uid this process holds (the kernel refuses the name).
		const other = spawnSync(
			process.execPath,
			[
				"-e",
				`require("node:net").createServer().once("error", (e) => { console.log(e.code); process.exit(0); }).listen({ path: "\\0tandem-box-uid-${a}" }, () => { console.log("bound"); process.exit(0); })`,
			],
			{ encoding: "utf8" },
		);
		expect(other.stdout.trim()).toBe("EADDRINUSE");
		expect(() => boxUidRange({ RUNNER_BOX_UID_BASE: "65000", RUNNER_BOX_UIDS: "1000" })).toThrow(/nobody/);
		expect(() => boxUidRange({ RUNNER_BOX_UID_BASE: "0" })).toThrow(RangeError);
		expect(() => boxUidRange({ RUNNER_BOX_UIDS: "many" })).toThrow(/whole number/);
	});

	it("one live box's uid cannot read another box's /proc files or ptrace it", async () => {
		const marker = `98765${process.pid}`;
		const victim = run(
			"bash",
			`export TANDEM_SECRET=box-secret-${marker}\nexec sleep 2${marker}\n`,
			[""],
			KERNEL_COUNTED_LIMITS,
		);
		const attacker = run("bash", `exec sleep 3${marker}\n`, [""], KERNEL_COUNTED_LIMITS);
		const find = async (what: string) => {
			for (;;) {
				const pid = hostProcessesWith(what)[0];
				if (pid !== undefined) return pid;
				await new Promise((r) => setTimeout(r, 20));
			}
		};
		const [victimPid, attackerPid] = await Promise.all([find(`sleep 2${marker}`), find(`sleep 3${marker}`)]);
		const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
		const attackerUid = uidOf(attackerPid);
		expect(attackerUid).not.toBe(uidOf(victimPid));
		expect(attackerUid).not.toBe(65534);
		// The attacker box's uid, on the host (where both boxes' processes are visible), tries the victim.
		const probe = spawnSync(
			"/usr/bin/setpriv",
			[
				`--reuid=${attackerUid}`,
				`--regid=${attackerUid}`,
				"--clear-groups",
				"/usr/bin/perl",
				"-e",
				[
					`my $pid = ${victimPid};`,
					'for my $f ("environ", "fd/0", "mem", "cwd/") { if (opendir(my $d, "/proc/$pid/$f") || open(my $h, "<", "/proc/$pid/$f")) { print "$f readable\\n" } else { print "$f denied\\n" } }',
					'my $r = syscall(101, 16, $pid, 0, 0); print $r == 0 ? "ptrace attached\\n" : "ptrace denied\\n";',
				].join(" "),
			],
			{ encoding: "utf8" },
		);
		for (const pid of [victimPid, attackerPid]) process.kill(pid, "SIGKILL");
		await Promise.all([victim, attacker]);
		expect(probe.stdout.trim().split("\n")).toEqual([
			"environ denied",
			"fd/0 denied",
			"mem denied",
			"cwd/ denied",
			"ptrace denied",
		]);
		await expectHostClean();
	});
});
