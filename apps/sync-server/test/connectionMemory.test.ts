import { afterAll, describe, expect, it } from "vitest";
import { SignallingExtension } from "../src/call/SignallingExtension.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { createSession, eventually, registerUser, startTestServer } from "./support/testServer.ts";

// Issue 7 benchmark 3: memory goes back after sockets close. What the server keeps per
// connection must be gone once they have closed; RSS itself is measured by bench/connections.bench.ts.
const closers: Array<() => Promise<void> | void> = [];
afterAll(async () => {
	for (const close of closers.reverse()) await close();
});

const CLIENTS = 24;

describe("per-connection state after sockets close", () => {
	it("keeps no connection, call peer or document once every socket has closed, twice over", async () => {
		const node = await startTestServer();
		closers.push(() => node.close());
		const owner = await registerUser(node.url, "memowner");
		const session = await createSession(node.url, owner.token, { title: "memory" });
		const signalling = node.server.hocuspocus.configuration.extensions.find(
			(e): e is SignallingExtension => e instanceof SignallingExtension,
		);
		expect(signalling).toBeDefined();

		for (let cycle = 0; cycle < 2; cycle++) {
			const clients: CollabClient[] = [];
			for (let i = 0; i < CLIENTS; i++) clients.push(await connectClient(node.wsUrl, session.id, owner.token));
			// Half join the call, so the signalling extension holds a peer id and a rate bucket for them.
			for (const client of clients.slice(0, CLIENTS / 2)) {
				client.provider.sendStateless(JSON.stringify({ type: "call", kind: "join", muted: true, camera: false }));
			}
			await eventually(() => signalling?.peerCount === CLIENTS / 2);
			expect(node.server.hocuspocus.getConnectionsCount()).toBe(CLIENTS);

			for (const client of clients) client.destroy();
			await eventually(() => node.server.hocuspocus.getConnectionsCount() === 0);
			await eventually(() => node.server.hocuspocus.getDocumentsCount() === 0);
			expect(signalling?.peerCount).toBe(0);
		}
	});
});
