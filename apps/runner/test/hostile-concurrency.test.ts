import { describe, expect, it } from "vitest";
import { expectHostClean, KERNEL_COUNTED_LIMITS, run, settledHostProcessesWith } from "./support/sandboxHarness.ts";

// RELIABILITY 1–5 and 10 at once: 20 hostile runs side by side, each with its own verdict. The wall
// clock never binds (KERNEL_COUNTED_LIMITS): 21 runs on two loaded cores can wait seconds for a CPU,
// and a memory bomb stopped by the wall clock before it reached its limit is rightly a timeout.
const HOSTILE: readonly { language: string; code: string; expected: readonly string[] }[] = [
	{ language: "bash", code: ":(){ :|:& };:\nsleep 5\n", expected: ["timeout", "runtime_error", "ok"] },
	{ language: "python", code: "a=[]\nwhile True: a.append(bytearray(8<<20))\n", expected: ["memory_limit"] },
	{ language: "python", code: "while True: pass\n", expected: ["timeout"] },
	{ language: "bash", code: "yes flood\n", expected: ["output_limit"] },
	{
		language: "bash",
		code: "setsid sleep 986001 & nohup sleep 986002 >/dev/null 2>&1 &\necho bye\n",
		expected: ["ok"],
	},
];

describe("20 concurrent hostile runs", () => {
	it("gives every run its verdict, lets a well-behaved run finish, and leaves the host clean", async () => {
		const runs = Array.from({ length: 20 }, (_, i) => HOSTILE[i % HOSTILE.length] as (typeof HOSTILE)[number]);
		const [results, good] = await Promise.all([
			Promise.all(runs.map((r) => run(r.language, r.code, [""], KERNEL_COUNTED_LIMITS))),
			run(
				"python",
				"import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))\n",
				["1 2 3"],
				KERNEL_COUNTED_LIMITS,
			),
		]);
		results.forEach((result, i) => {
			expect(runs[i]?.expected, `run ${i}: ${result.status} ${result.runs[0]?.stderr.slice(0, 200)}`).toContain(
				result.status,
			);
		});
		expect(good.status).toBe("ok");
		expect(good.runs[0]?.stdout).toBe("6\n");
		expect(await settledHostProcessesWith("sleep 98600")).toEqual([]);
		await expectHostClean();
	});
});
