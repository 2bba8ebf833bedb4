import { existsSync, readdirSync } from "node:fs";
import os from "node:os";
import { describe, expect, it } from "vitest";
import { runBox } from "../src/sandbox/box.ts";
import {
	expectHostClean,
	hostProcessesWith,
	run,
	settledHostProcessesWith,
	TEST_LIMITS,
} from "./support/sandboxHarness.ts";

// RELIABILITY 6–13: what the box can see, reach and leave behind.

function hostAddresses(): string[] {
	return Object.values(os.networkInterfaces())
		.flat()
		.filter((a) => a?.family === "IPv4")
		.map((a) => a?.address as string);
}

describe("RELIABILITY 6: host secrets", () => {
	it("hides /etc/shadow, the repo, /root, host processes and the runner's environment", async () => {
		process.env.TANDEM_TEST_SECRET = "runner-secret-4f1c";
		const code = [
			"import os, glob",
			"for p in ['/etc/shadow', '/etc/passwd', '/work', '/root', '/home', '/var/lib/postgresql', '/run']:",
			"    print(p, os.path.exists(p))",
			"env = b''.join(open(f, 'rb').read() for f in glob.glob('/proc/*/environ') if os.access(f, os.R_OK))",
			"print('secret-in-proc', b'runner-secret' in env)",
			"print('secret-in-env', any('runner-secret' in v for v in os.environ.values()))",
			"print('env', sorted(os.environ))",
			"print('pids', len([p for p in os.listdir('/proc') if p.isdigit()]))",
		].join("\n");
		const result = await run("python", code);
		delete process.env.TANDEM_TEST_SECRET;
		expect(result.status, JSON.stringify(result)).toBe("ok");
		const out = result.runs[0]?.stdout ?? "";
		for (const p of ["/etc/shadow", "/etc/passwd", "/work", "/root", "/home", "/var/lib/postgresql", "/run"])
			expect(out).toContain(`${p} False`);
		expect(out).toContain("secret-in-proc False");
		expect(out).toContain("secret-in-env False");
		expect(out).toContain("env ['HOME', 'LANG', 'PATH', 'PWD', 'TMPDIR']");
		// bwrap's init, python: nothing of the host.
		expect(Number(/pids (\d+)/.exec(out)?.[1])).toBeLessThanOrEqual(3);
	});
});

describe("RELIABILITY 7: network", () => {
	it("cannot reach Postgres, Redis, the host, DNS or the metadata address", async () => {
		const targets = [
			"127.0.0.1:5432",
			"127.0.0.1:6379",
			"169.254.169.254:80",
			"1.1.1.1:53",
			...hostAddresses().map((a) => `${a}:5432`),
		];
		const code = [
			"import socket",
			`for t in ${JSON.stringify(targets)}:`,
			"    host, port = t.rsplit(':', 1)",
			"    try:",
			"        socket.create_connection((host, int(port)), timeout=0.5).close(); print('OPEN', t)",
			"    except OSError as e:",
			"        print('closed', t)",
			"try:",
			"    socket.getaddrinfo('example.com', 80); print('DNS OK')",
			"except OSError:",
			"    print('dns failed')",
			"print('ifaces', [n for _, n in socket.if_nameindex()])",
		].join("\n");
		const result = await run("python", code);
		const out = result.runs[0]?.stdout ?? "";
		expect(out, result.runs[0]?.stderr).not.toContain("OPEN");
		expect(out).not.toContain("DNS OK");
		expect(out).toContain("dns failed");
		expect(out).toContain("ifaces ['lo']");
	});
});

describe("RELIABILITY 8 and 9: planted links and leftovers", () => {
	it("never follows links planted in the box, and the next input sees a fresh box", async () => {
		const code = [
			"import os",
			"seen = [p for p in ['/tmp/left', '/dev/shm/left', '/box/left', '/box/link'] if os.path.lexists(p)]",
			"print('seen', seen)",
			"for p in ['/tmp/left', '/dev/shm/left', '/box/left']: open(p, 'w').write('x')",
			"os.symlink('/etc/hostname', '/box/link')",
			"os.remove('/box/main.py'); os.symlink('/proc/self/environ', '/box/main.py')",
			"os.mkfifo('/box/stdin'); os.mkfifo('/tmp/out')",
			"try:",
			"    os.link('/usr/bin/python3', '/box/hard'); print('hardlink made')",
			"except OSError as e:",
			"    print('hardlink refused', e.errno)",
		].join("\n");
		const result = await run("python", code, ["a", "b", "c"]);
		expect(result.status, JSON.stringify(result)).toBe("ok");
		for (const r of result.runs) {
			expect(r.stdout).toContain("seen []");
			expect(r.stdout).toContain("hardlink refused");
		}
		await expectHostClean();
	});
});

describe("RELIABILITY 10: daemons", () => {
	it("kills setsid, double-forked and nohup'd processes with the run", async () => {
		const code = [
			"setsid sleep 987001 &",
			"( ( sleep 987002 & ) & )",
			"nohup sleep 987003 >/dev/null 2>&1 &",
			"python3 -c 'import os,time\nif os.fork(): os._exit(0)\nos.setsid()\nif os.fork(): os._exit(0)\ntime.sleep(987004)' &",
			"sleep 0.2; echo started",
		].join("\n");
		const result = await run("bash", code);
		expect(result.status, JSON.stringify(result)).toBe("ok");
		expect(result.runs[0]?.stdout).toContain("started");
		for (const m of ["987001", "987002", "987003", "987004"])
			expect((await settledHostProcessesWith(`sleep ${m}`)).concat(hostProcessesWith(`sleep(${m})`))).toEqual([]);
		await expectHostClean();
	});

	it("kills daemons started in a compile box", async () => {
		const o = await runBox({
			tag: "compile-daemon",
			argv: ["/bin/sh", "-c", "setsid sleep 987005 & nohup sleep 987006 >/dev/null 2>&1 & echo x > /box/out"],
			files: [],
			stdin: "",
			limits: TEST_LIMITS.compile,
			artifact: { path: "/box/out", maxBytes: 1024 },
		});
		expect(o.artifact?.toString()).toBe("x\n");
		expect((await settledHostProcessesWith("sleep 987005")).concat(hostProcessesWith("sleep 987006"))).toEqual([]);
		await expectHostClean();
	});
});

describe("RELIABILITY 11: attacks on the parent", () => {
	it("kill -9 -1, kill 1 and ptrace stay inside the box; the verdict is reported and a parallel run carries on", async () => {
		const parallel = run("python", "import time\ntime.sleep(0.5)\nprint('alive')\n");
		const killAll = await run("bash", "kill -9 -1; echo survived\n");
		expect(["runtime_error", "ok"]).toContain(killAll.status);
		const killInit = await run("bash", "kill -9 1; sleep 1; echo after\n");
		expect(["runtime_error", "ok"]).toContain(killInit.status);
		// The runner is not in the box's pid namespace: it cannot be named, so it cannot be traced or signalled.
		const trace = await run(
			"python",
			[
				"import ctypes, os",
				"libc = ctypes.CDLL(None, use_errno=True)",
				`pid = ${process.pid}`,
				"print('ptrace', libc.ptrace(16, pid, 0, 0), ctypes.get_errno())",
				"print('visible', os.path.exists(f'/proc/{pid}'))",
				"try:",
				"    os.kill(pid, 9); print('kill ok')",
				"except OSError as e:",
				"    print('kill failed', e.errno)",
			].join("\n"),
		);
		// EPERM: the seccomp filter denies ptrace before the kernel would look the pid up (ESRCH).
		expect(trace.runs[0]?.stdout).toContain("ptrace -1 1");
		expect(trace.runs[0]?.stdout).toContain("visible False");
		expect(trace.runs[0]?.stdout).not.toContain("kill ok");
		expect((await parallel).runs[0]?.stdout).toBe("alive\n");
		expect(process.kill(process.pid, 0)).toBe(true);
		await expectHostClean();
	});
});

describe("RELIABILITY 12: compile-time attacks", () => {
	it("stops #include of /dev/random with compile_error or timeout", async () => {
		const result = await run("c", '#include "/dev/random"\nint main(void){return 0;}\n');
		expect(["compile_error", "timeout"]).toContain(result.status);
		await expectHostClean();
	});

	it("stops a template explosion with compile_error or timeout", async () => {
		const code = "template<int N> struct F { static const int v = F<N+1>::v + 1; };\nint main(){ return F<0>::v; }\n";
		const result = await run("cpp", code);
		expect(["compile_error", "timeout"]).toContain(result.status);
		await expectHostClean();
	});

	it("stops a compile step that never ends at the compile wall limit", async () => {
		const o = await runBox({
			tag: "compile-forever",
			argv: ["/bin/sh", "-c", "sleep 1000"],
			files: [],
			stdin: "",
			limits: { ...TEST_LIMITS.compile, wallMs: 1000 },
			artifact: { path: "/box/out", maxBytes: 1024 },
		});
		expect(o.wallTimeout).toBe(true);
		await expectHostClean();
	});
});

describe("RELIABILITY 13: privilege tricks", () => {
	it("setuid binaries, nested user namespaces, mount and TIOCSTI all fail", async () => {
		const code = [
			"import os, subprocess, fcntl, termios",
			"def t(name, argv):",
			"    r = subprocess.run(argv, capture_output=True)",
			"    print(name, 'ok' if r.returncode == 0 else 'fail')",
			"t('su', ['su', '-c', 'id'])",
			"t('mount', ['mount', '-t', 'tmpfs', 'x', '/box'])",
			"t('unshare', ['unshare', '-U', '-r', 'id'])",
			"t('unshare-mount', ['unshare', '-m', 'true'])",
			"try:",
			"    fd = os.open('/dev/tty', os.O_RDWR); fcntl.ioctl(fd, termios.TIOCSTI, b'x'); print('tiocsti ok')",
			"except OSError:",
			"    print('tiocsti fail')",
			"print('uid', os.getuid(), os.geteuid())",
			"print([l for l in open('/proc/self/status') if l.startswith(('CapEff', 'NoNewPrivs'))])",
		].join("\n");
		const result = await run("python", code);
		const out = result.runs[0]?.stdout ?? "";
		for (const name of ["su", "mount", "unshare", "unshare-mount", "tiocsti"])
			expect(out, out + result.runs[0]?.stderr).toContain(`${name} fail`);
		expect(out).toContain("uid 65534 65534");
		expect(out).toContain("CapEff:\\t0000000000000000");
		expect(out).toContain("NoNewPrivs:\\t1");
	});
});

describe("read-only outside the box's tmpfs", () => {
	it("cannot write to /, /usr, /etc, /dev or /proc/sys", async () => {
		const code =
			"for p in /x /usr/x /etc/x /dev/x /proc/sys/kernel/hostname /lib/x; do (echo hi > $p) 2>/dev/null && echo WROTE $p || echo denied $p; done\n";
		const result = await run("bash", code);
		expect(result.runs[0]?.stdout).not.toContain("WROTE");
		expect(result.runs[0]?.stdout.match(/denied/g)?.length).toBe(6);
	});
});

describe("host after hostile runs", () => {
	it("leaves nothing in the host's /tmp", async () => {
		const before = new Set(readdirSync("/tmp"));
		await run("bash", "echo x > /tmp/tandem-escape-marker; echo y > /box/tandem-escape-marker\n");
		expect(existsSync("/tmp/tandem-escape-marker")).toBe(false);
		expect(readdirSync("/tmp").filter((e) => !before.has(e) && e.includes("tandem-escape"))).toEqual([]);
	});
});
