import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRawCollab, type RawCollab } from "./support/rawCollab.ts";
import { createSession, type RunningServer, registerUser, startTestServer } from "./support/testServer.ts";

let s: RunningServer;
const sockets: RawCollab[] = [];

beforeAll(async () => {
	s = await startTestServer();
});
afterAll(async () => {
	for (const c of sockets) c.close();
	await s?.close();
});

describe("drain (issue 13 step 7)", () => {
	it("readiness turns 503 while every socket is still open, then sockets close in batches of the configured rate", async () => {
		const owner = await registerUser(s.url, "drainer");
		const session = await createSession(s.url, owner.token, { code: "drain\n" });
		for (let i = 0; i < 7; i++) sockets.push(await openRawCollab(s.wsUrl, session.id, owner.token));
		expect(s.server.hocuspocus.getConnectionsCount()).toBe(7);

		const batches: Array<{ closed: number; stillOpen: number }> = [];
		// 20 a second = batches of 2 (DRAIN_BATCHES_PER_SECOND is 10). The delay stands for the balancer's
		// health-check interval × fall; nothing below waits for it to pass.
		const drained = s.server.drain({
			delayMs: 3000,
			socketsPerSecond: 20,
			onBatch: (closed, stillOpen) => batches.push({ closed, stillOpen }),
		});
		const ready = await s.server.app.inject({ method: "GET", url: "/readyz" });
		expect(ready.statusCode).toBe(503);
		expect(ready.json().status).toBe("draining");
		// The balancer is told first: no socket has been closed yet.
		expect(batches).toEqual([]);
		expect(sockets.every((c) => c.closeReason() === null)).toBe(true);

		await drained;
		expect(batches).toEqual([
			{ closed: 2, stillOpen: 5 },
			{ closed: 2, stillOpen: 3 },
			{ closed: 2, stillOpen: 1 },
			{ closed: 1, stillOpen: 0 },
		]);
		await Promise.all(sockets.map((c) => c.closed));
		expect(sockets.map((c) => c.closeReason())).toEqual(Array(7).fill("Server restarting"));
	});
});
