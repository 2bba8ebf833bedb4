import { describe, expect, it } from "vitest";
import { ConnectionMemoryReclaimer } from "./ConnectionMemoryReclaimer.ts";

function counting(options: { minDrop: number }) {
	let runs = 0;
	let finished: () => void = () => {};
	const done = new Promise<void>((resolve) => {
		finished = resolve;
	});
	const reclaimer = new ConnectionMemoryReclaimer({
		minDrop: options.minDrop,
		quietMs: 0,
		reclaim: async () => {
			runs += 1;
			finished();
		},
	});
	return { reclaimer, runs: () => runs, done };
}

function open(reclaimer: ConnectionMemoryReclaimer, n: number): void {
	for (let i = 0; i < n; i++) reclaimer.opened();
}

function close(reclaimer: ConnectionMemoryReclaimer, n: number): void {
	for (let i = 0; i < n; i++) reclaimer.closed();
}

describe("ConnectionMemoryReclaimer", () => {
	it("collects once after most of many sockets closed", async () => {
		const { reclaimer, runs, done } = counting({ minDrop: 100 });
		open(reclaimer, 300);
		close(reclaimer, 280);
		expect(reclaimer.pending).toBe(true);
		await done;
		await reclaimer.settled();
		expect(runs()).toBe(1);
		expect(reclaimer.openSockets).toBe(20);
		expect(reclaimer.pending).toBe(false);
	});

	it("leaves small drops and churn to V8", () => {
		const { reclaimer } = counting({ minDrop: 100 });
		open(reclaimer, 150);
		close(reclaimer, 99);
		expect(reclaimer.pending).toBe(false);
		const churn = counting({ minDrop: 100 }).reclaimer;
		open(churn, 1000);
		for (let i = 0; i < 500; i++) {
			churn.closed();
			churn.opened();
		}
		close(churn, 400);
		expect(churn.openSockets).toBe(600);
		expect(churn.pending).toBe(false);
	});

	it("measures the next drop from the sockets left open at the last collection", async () => {
		const { reclaimer, runs, done } = counting({ minDrop: 100 });
		open(reclaimer, 400);
		close(reclaimer, 300);
		await done;
		await reclaimer.settled();
		close(reclaimer, 60);
		expect(reclaimer.pending).toBe(false);
		expect(runs()).toBe(1);
	});

	it("does nothing without a way to collect, and nothing after stop", () => {
		const bare = new ConnectionMemoryReclaimer({ minDrop: 1 });
		open(bare, 10);
		close(bare, 10);
		expect(bare.pending).toBe(false);
		const { reclaimer } = counting({ minDrop: 1 });
		open(reclaimer, 10);
		reclaimer.stop();
		close(reclaimer, 10);
		expect(reclaimer.pending).toBe(false);
		expect(reclaimer.openSockets).toBe(0);
	});
});
