import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { codeText, readCode } from "@tandem/crdt-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChildServer } from "./support/childServer.ts";
import { type Cluster, startCluster } from "./support/cluster.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { api, createSession, eventually, freePort, registerUser } from "./support/testServer.ts";

// Issue 13 step 2 (decision 054): the shipped HAProxy configuration, unchanged, in front of three
// sync nodes over the machine's Postgres (a private database) and Redis (a private prefix).
// `/collab/{sessionId}` goes to one node per session by a consistent hash of the path, and losing
// a node moves only that node's sessions. HAProxy is Debian's package (scripts/setup-system.sh).

const HAPROXY_CFG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../deploy/haproxy/haproxy.cfg");
const SESSIONS = 12;

let cluster: Cluster;
let haproxy: ChildProcess | undefined;
let haproxyLog = "";
let lbUrl = "";
const nodes: ChildServer[] = [];
const clients: CollabClient[] = [];

/** Which node answers a plain GET of `/collab/{sessionId}` through the balancer (its x-tandem-node header). */
async function nodeFor(sessionId: string): Promise<string | null> {
	try {
		const res = await fetch(`${lbUrl}/collab/${sessionId}`, { signal: AbortSignal.timeout(5000) });
		await res.arrayBuffer();
		return res.status < 500 ? res.headers.get("x-tandem-node") : null;
	} catch {
		return null;
	}
}

async function nodeIdOf(node: ChildServer): Promise<string> {
	const res = await api(node.url, "GET", "/readyz");
	return res.body.nodeId as string;
}

async function documentsLoaded(node: ChildServer): Promise<number> {
	const text = await (await fetch(`${node.url}/metrics`)).text();
	const line = text.split("\n").find((l) => l.startsWith("tandem_documents_loaded"));
	return Number(line?.split(" ").at(-1));
}

beforeAll(async () => {
	cluster = await startCluster("lb", {
		PERSIST_DEBOUNCE_MS: "200",
		PERSIST_MAX_DEBOUNCE_MS: "1000",
		TRUST_PROXY: "127.0.0.1",
	});
	nodes.push(...(await Promise.all([1, 2, 3].map((n) => cluster.spawn({ NODE_ID: `sync-${n}` })))));
	const port = await freePort();
	lbUrl = `http://127.0.0.1:${port}`;
	haproxy = spawn("haproxy", ["-db", "-f", HAPROXY_CFG], {
		env: {
			...process.env,
			TANDEM_LB_BIND: `127.0.0.1:${port}`,
			// A dozen sockets would trip the 150 % bound on the first node a few sessions hash to.
			TANDEM_HASH_BALANCE_FACTOR: "0",
			// This machine's open-file hard limit is 20,000 (the shipped 100,000 needs twice that).
			TANDEM_LB_MAXCONN: "5000",
			SYNC_NODE_1: new URL(nodes[0]!.url).host,
			SYNC_NODE_2: new URL(nodes[1]!.url).host,
			SYNC_NODE_3: new URL(nodes[2]!.url).host,
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	haproxy.stdout?.on("data", (c: Buffer) => {
		haproxyLog += c.toString();
	});
	haproxy.stderr?.on("data", (c: Buffer) => {
		haproxyLog += c.toString();
	});
	haproxy.once("exit", (code) => {
		haproxyLog += `\nhaproxy exited with ${code}`;
	});
	// Ready when HAProxy's health checks have every node up: REST (least connections) reaches all three.
	const seen = new Set<string>();
	await eventually(async () => {
		if (haproxy?.exitCode !== null) throw new Error(`haproxy is not running:\n${haproxyLog}`);
		const res = await fetch(`${lbUrl}/readyz`).catch(() => null);
		if (res?.status === 200) seen.add(((await res.json()) as { nodeId: string }).nodeId);
		return seen.size === 3;
	}, 100);
}, 240_000);

afterAll(async () => {
	for (const c of clients) c.destroy();
	haproxy?.kill("SIGKILL");
	await cluster?.destroy();
}, 60_000);

describe("HAProxy in front of three sync nodes (deploy/haproxy/haproxy.cfg)", () => {
	it("sends every socket of one session to one node, and a node's loss moves only its sessions", async () => {
		const owner = await registerUser(lbUrl, "lbowner");
		const sessions: string[] = [];
		for (let i = 0; i < SESSIONS; i++) {
			sessions.push((await createSession(lbUrl, owner.token, { code: `session ${i}\n` })).id as string);
		}
		// The same session always lands on the same node; the sessions spread over the nodes.
		const placed = new Map<string, string>();
		for (const id of sessions) {
			const first = await nodeFor(id);
			expect(first).toMatch(/^sync-[123]$/);
			expect(await nodeFor(id)).toBe(first);
			placed.set(id, first as string);
		}
		expect(new Set(placed.values()).size).toBeGreaterThan(1);

		// Two people per session through the balancer: each session is loaded on exactly one node.
		const pairs: [CollabClient, CollabClient][] = [];
		for (const id of sessions) {
			const wsUrl = `${lbUrl.replace("http:", "ws:")}/collab/${id}`;
			const a = await connectClient(wsUrl, id, owner.token);
			const b = await connectClient(wsUrl, id, owner.token);
			clients.push(a, b);
			pairs.push([a, b]);
		}
		const ids = await Promise.all(nodes.map(nodeIdOf));
		const loaded = await Promise.all(nodes.map(documentsLoaded));
		const expected = ids.map((nodeId) => [...placed.values()].filter((n) => n === nodeId).length);
		expect(loaded).toEqual(expected);

		// Lose the node holding the most sessions.
		const victimIndex = expected.indexOf(Math.max(...expected));
		const victim = ids[victimIndex] as string;
		await nodes[victimIndex]?.stop("SIGKILL");
		const moved = sessions.filter((id) => placed.get(id) === victim);
		await eventually(async () => {
			for (const id of moved) {
				const now = await nodeFor(id);
				if (now === null || now === victim) return false;
			}
			return true;
		}, 200);
		// Sessions of the surviving nodes stay where they were.
		for (const id of sessions) {
			if (placed.get(id) !== victim) expect(await nodeFor(id)).toBe(placed.get(id));
		}

		// The moved sessions' clients reconnect through the balancer and keep editing together.
		for (const [i, [a, b]] of pairs.entries()) {
			codeText(a.doc).insert(0, `after ${i}\n`);
			await eventually(() => readCode(b.doc).startsWith(`after ${i}\n`), 50);
			expect(readCode(b.doc)).toBe(readCode(a.doc));
		}
	}, 240_000);
});
