import { describe, expect, it } from "vitest";
import { limitBoxes, runBox, settleSandbox } from "../src/sandbox/box.ts";
import { initCgroups, liveRunCgroups } from "../src/sandbox/runCgroup.ts";
import { expectHostClean, TEST_LIMITS } from "./support/sandboxHarness.ts";

describe("box slots", () => {
	it("counts a box whose cgroup is still being removed against the limit, and settleSandbox leaves no cgroup", async () => {
		await initCgroups();
		limitBoxes(2);
		// Every box's cgroup exists from its start until its removal: sample how many exist at once.
		// (cgroup v1 gives each box one directory per controller, all with the box's name.)
		const boxes = () => new Set(liveRunCgroups().map((dir) => dir.slice(dir.lastIndexOf("/") + 1))).size;
		let most = 0;
		const sample = setInterval(() => {
			most = Math.max(most, boxes());
		}, 1);
		const outcomes = await Promise.all(
			Array.from({ length: 8 }, (_, i) =>
				runBox({
					tag: `slots-${i}`,
					argv: ["/bin/sh", "-c", "sleep 0.05 & echo done"],
					files: [],
					stdin: "",
					limits: TEST_LIMITS.run,
				}),
			),
		);
		await settleSandbox();
		clearInterval(sample);
		most = Math.max(most, boxes());
		expect(outcomes.map((o) => o.stdout)).toEqual(outcomes.map(() => "done\n"));
		expect(most).toBeGreaterThan(0);
		expect(most).toBeLessThanOrEqual(2);
		expect(liveRunCgroups()).toEqual([]);
		await expectHostClean();
	});
});
