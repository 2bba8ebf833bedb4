import { readCode } from "@tandem/crdt-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChildServer } from "./support/childServer.ts";
import { type Cluster, startCluster } from "./support/cluster.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { expectEverywhereOnce } from "./support/faultChecks.ts";
import { startTcpProxy, type TcpProxy } from "./support/tcpProxy.ts";
import { api, createSession, registerUser } from "./support/testServer.ts";
import { holdsAll, markersOnce, Typist, within } from "./support/typists.ts";

// Sync node faults on real child processes over the machine's Postgres (a private database)
// and Redis (a private prefix). Clients reach nodes through a small TCP load balancer
// (support/tcpProxy.ts) that sends each new connection to the first node that is ready, so a
// client whose node went away reconnects (the provider's backoff with jitter) to another one.

const FAST_STORES = { PERSIST_DEBOUNCE_MS: "200", PERSIST_MAX_DEBOUNCE_MS: "1000" };
const TYPE_EVERY_MS = 40;

let cluster: Cluster;
const proxies: TcpProxy[] = [];
const clients: CollabClient[] = [];
const typists: Typist[] = [];

beforeAll(async () => {
	cluster = await startCluster("nodefaults", FAST_STORES);
}, 240_000);

afterAll(async () => {
	for (const t of typists) t.stop();
	for (const c of clients) c.destroy();
	for (const p of proxies) await p.close();
	await cluster?.destroy();
}, 240_000);

async function isReady(node: ChildServer): Promise<boolean> {
	if (node.child.exitCode !== null || node.child.signalCode !== null) return false;
	try {
		const res = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(2000) });
		return res.status === 200;
	} catch {
		return false;
	}
}

/** A load balancer over `pool`: each new connection goes to the first ready node. */
async function balancer(pool: ChildServer[]): Promise<TcpProxy> {
	const proxy = await startTcpProxy(async () => {
		for (const node of pool) if (await isReady(node)) return Number(new URL(node.url).port);
		return null;
	});
	proxies.push(proxy);
	return proxy;
}

async function connect(wsUrl: string, sessionId: string, token: string): Promise<CollabClient> {
	const c = await connectClient(wsUrl, sessionId, token);
	clients.push(c);
	return c;
}

function typist(name: string, client: CollabClient): Typist {
	const t = new Typist(name, client);
	typists.push(t);
	return t;
}

/** Wait until the latest marker typed so far by `t` is acknowledged ("saved"). */
async function savedNow(t: Typist, deadlineMs = 20_000): Promise<void> {
	const marker = t.type();
	await within(
		`${marker} saved`,
		() => t.acked().includes(marker),
		deadlineMs,
		() => t.unacked(),
	);
}

async function owner(node: ChildServer, seed: string) {
	const user = await registerUser(node.url, "fault");
	const session = await createSession(node.url, user.token, { code: seed });
	return { token: user.token as string, sessionId: session.id as string };
}

describe("sync node faults (RELIABILITY 22, 23, 31, 32)", () => {
	it("RELIABILITY 22: a restart with clients connected duplicates nothing; the edits typed across it all arrive", async () => {
		const first = await cluster.spawn();
		const pool = [first];
		const lb = await balancer(pool);
		const seed = "def restart():\n";
		const { token, sessionId } = await owner(first, seed);
		const a = typist("ra", await connect(lb.wsUrl, sessionId, token)).start(TYPE_EVERY_MS);
		const b = typist("rb", await connect(lb.wsUrl, sessionId, token)).start(TYPE_EVERY_MS);
		await savedNow(a);

		expect(await first.stop("SIGTERM")).toBe(0);
		const second = await cluster.spawn();
		pool.splice(0, 1, second);
		// Both clients come back on the new process and their edits typed meanwhile are saved.
		await Promise.all([savedNow(a), savedNow(b)]);
		a.stop();
		b.stop();

		await expectEverywhereOnce({
			cluster,
			nodeUrl: second.url,
			wsUrl: second.wsUrl,
			sessionId,
			token,
			seed,
			replicas: [a.client, b.client],
			mustHold: [...a.all(), ...b.all()],
		});
		await second.stop("SIGTERM");
	}, 60_000);

	it("RELIABILITY 23: SIGKILL within the store debounce after a tab closed keeps what was saved, and what another node holds", async () => {
		const slow = { PERSIST_DEBOUNCE_MS: "1000", PERSIST_MAX_DEBOUNCE_MS: "3000" };
		const [a, b] = await Promise.all([cluster.spawn(slow), cluster.spawn(slow)]);
		const seed = "saved?\n";
		const { token, sessionId } = await owner(a, seed);
		const tab = typist("tab", await connect(a.wsUrl, sessionId, token));
		// A second participant on the same node keeps the document open there: closing the tab
		// does not store at once, so the kill lands inside the debounce.
		const other = await connect(a.wsUrl, sessionId, token);
		const onB = await connect(b.wsUrl, sessionId, token);

		tab.type();
		tab.type();
		await savedNow(tab);
		const saved = tab.acked();
		expect(holdsAll(await cluster.storedCode(sessionId), saved)).toBe(true);

		// Typed after "saved". The test holds the session's row lock meanwhile (an append to the update log checks it as a foreign key), so node A cannot
		// have stored these before it dies, however slow the machine; node B got them through Redis.
		let unsaved: string[] = [];
		await cluster.sql.begin(async (tx) => {
			await tx`select 1 from sessions where id = ${sessionId} for update`;
			unsaved = [tab.type(), tab.type()];
			await within("node B's client sees the unsaved edits", () => holdsAll(readCode(onB.doc), unsaved));
			expect(tab.unacked()).toEqual(unsaved);
			tab.client.destroy();
			await a.stop("SIGKILL");
			other.destroy();
		});

		// What was saved is in the database; what node B holds gets there too.
		expect(holdsAll(await cluster.storedCode(sessionId), saved)).toBe(true);
		await expectEverywhereOnce({
			cluster,
			nodeUrl: b.url,
			wsUrl: b.wsUrl,
			sessionId,
			token,
			seed,
			replicas: [onB],
			mustHold: [...saved, ...unsaved],
		});
		onB.destroy();
		await b.stop("SIGTERM");
	}, 60_000);

	it("RELIABILITY 31: SIGKILL a node while clients on two nodes type: they reconnect and nothing is lost", async () => {
		const [a, b] = await Promise.all([cluster.spawn(), cluster.spawn()]);
		const seed = "two nodes\n";
		const { token, sessionId } = await owner(a, seed);
		const lbA = await balancer([a, b]);
		const lbB = await balancer([b, a]);
		const onA = [
			typist("ka", await connect(lbA.wsUrl, sessionId, token)),
			typist("kb", await connect(lbA.wsUrl, sessionId, token)),
		];
		const onB = typist("kc", await connect(lbB.wsUrl, sessionId, token));
		for (const t of [...onA, onB]) t.start(TYPE_EVERY_MS);
		await Promise.all([...onA, onB].map((t) => savedNow(t)));
		await within("node B's client sees node A's edits", () => holdsAll(readCode(onB.client.doc), onA[0]!.all()));

		await a.stop("SIGKILL");
		// The clients of the dead node come back on node B; everyone's edits since are saved.
		await Promise.all([...onA, onB].map((t) => savedNow(t)));
		for (const t of [...onA, onB]) t.stop();

		await expectEverywhereOnce({
			cluster,
			nodeUrl: b.url,
			wsUrl: b.wsUrl,
			sessionId,
			token,
			seed,
			replicas: [...onA, onB].map((t) => t.client),
			mustHold: [...onA, onB].flatMap((t) => t.all()),
		});
		await b.stop("SIGTERM");
	}, 60_000);

	it("RELIABILITY 32: a rolling restart with SIGTERM: readiness drops while draining, documents are stored, sockets close; zero lost stores", async () => {
		// As behind a balancer: readiness is 503 for a while before sockets close, then they close a few at a time.
		const drainEnv = { DRAIN_DELAY_MS: "1000", DRAIN_SOCKETS_PER_SECOND: "20" };
		const [a, b] = await Promise.all([cluster.spawn(drainEnv), cluster.spawn(drainEnv)]);
		const seed = "rolling\n";
		const { token, sessionId } = await owner(a, seed);
		// A second session open only on node A, whose store the test holds up with a row lock:
		// node A's drain cannot finish before the test lets it, so its readiness is observable.
		const held = await createSession(a.url, token, { code: "held\n" });
		const poolA = [a, b];
		const poolB = [b, a];
		const lbA = await balancer(poolA);
		const lbB = await balancer(poolB);
		const typing = [
			typist("ga", await connect(lbA.wsUrl, sessionId, token)),
			typist("gb", await connect(lbA.wsUrl, sessionId, token)),
			typist("gc", await connect(lbB.wsUrl, sessionId, token)),
		];
		const heldTypist = typist("h", await connect(lbA.wsUrl, held.id, token));
		for (const t of typing) t.start(TYPE_EVERY_MS);
		await Promise.all(typing.map((t) => savedNow(t)));

		let drainedA: Promise<number | null> | undefined;
		await cluster.sql.begin(async (tx) => {
			await tx`select 1 from sessions where id = ${held.id} for update`;
			heldTypist.type();
			drainedA = a.stop("SIGTERM");
			// Draining turns readiness off at once; sockets close after DRAIN_DELAY_MS, at the drain's rate.
			await within("node A reports draining", async () => {
				const res = await api(a.url, "GET", "/readyz").catch(() => null);
				return res?.status === 503 && res.body?.status === "draining";
			});
			expect(a.child.exitCode).toBe(null);
		});
		// The clients moved to node B, where their edits are saved.
		await Promise.all(typing.map((t) => savedNow(t)));
		// With the lock released node A stores the held document and exits cleanly.
		expect(await drainedA, a.output()).toBe(0);
		expect(a.output()).not.toMatch(/store failed|still in memory/);
		const heldCode = await cluster.storedCode(held.id);
		expect(holdsAll(heldCode, heldTypist.all())).toBe(true);
		markersOnce(heldCode, "held\n");

		// Second half of the roll: a new node A, then node B drains onto it.
		const a2 = await cluster.spawn(drainEnv);
		poolA.splice(0, 1, a2);
		poolB.splice(1, 1, a2);
		await Promise.all(typing.map((t) => savedNow(t)));
		expect(await b.stop("SIGTERM"), b.output()).toBe(0);
		expect(b.output()).not.toMatch(/store failed|still in memory/);
		await Promise.all(typing.map((t) => savedNow(t)));
		for (const t of typing) t.stop();

		await expectEverywhereOnce({
			cluster,
			nodeUrl: a2.url,
			wsUrl: a2.wsUrl,
			sessionId,
			token,
			seed,
			replicas: typing.map((t) => t.client),
			mustHold: typing.flatMap((t) => t.all()),
		});
		await a2.stop("SIGTERM");
	}, 120_000);
});
