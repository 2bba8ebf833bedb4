// Issue "Benchmarks" part 2: fan-out of live updates. Tandem's sync server beside a bare
// @hocuspocus/server and the reference y-websocket server, each a child process driven by
// this process's light clients over loopback.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { codeText } from "@tandem/crdt-schema";
import * as Y from "yjs";
import { type ChildServer, type ServerKind, startServer } from "./harness/childServers.ts";
import { sampleProcess } from "./harness/processStats.ts";
import { fmt, fmtBytes, quantile, table } from "./harness/stats.ts";
import { WireClient } from "./harness/syncWire.ts";
import { createSession, registerUser } from "./harness/tandemApi.ts";

const UPDATES_PER_SECOND = 10;
// Two people typing per document (pair programming); everyone else watches.
const WRITERS_PER_DOCUMENT = 2;
const CONNECT_CONCURRENCY = 50;
const SERVERS: readonly ServerKind[] = ["tandem", "hocuspocus", "y-websocket"];
// A writer stamps each update with `<T{writer}:{µs since this process started}>`; receivers find it in the raw bytes.
const MARKER = Buffer.from("<T");
const MARKER_END = ">".charCodeAt(0);

interface Scenario {
	readonly clients: number;
	readonly documents: number;
}

const FULL: readonly Scenario[] = [
	{ clients: 10, documents: 1 },
	{ clients: 100, documents: 1 },
	{ clients: 1_000, documents: 1 },
	{ clients: 1_000, documents: 100 },
];
const SMOKE: readonly Scenario[] = [{ clients: 10, documents: 1 }];

interface FanoutResult {
	readonly server: ServerKind;
	readonly scenario: Scenario;
	readonly writers: number;
	readonly updatesSent: number;
	readonly expectedDeliveries: number;
	readonly delivered: number;
	readonly p50Ms: number;
	readonly p99Ms: number;
	readonly maxMs: number;
	readonly cpuMicrosPerDelivery: number;
	readonly rssPerConnectionBytes: number;
	readonly clientCpuPercent: number;
	readonly clientLoopDelayP99Ms: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowMicros = () => Math.round(performance.now() * 1000);

async function inBatches<T>(count: number, concurrency: number, make: (i: number) => Promise<T>): Promise<T[]> {
	const out: T[] = new Array(count);
	let next = 0;
	const worker = async () => {
		while (next < count) {
			const i = next++;
			out[i] = await make(i);
		}
	};
	await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
	return out;
}

/** Document names (and for Tandem an account and sessions) for a scenario. */
async function prepareDocuments(server: ChildServer, documents: number): Promise<{ names: string[]; token?: string }> {
	if (server.kind !== "tandem") return { names: Array.from({ length: documents }, (_, i) => `fanout-doc-${i}`) };
	const account = await registerUser(server.httpUrl, "fanout");
	const names = await inBatches(documents, 10, () => createSession(server.httpUrl, account.token, "fanout"));
	return { names, token: account.token };
}

async function runScenario(
	kind: ServerKind,
	scenario: Scenario,
	windowMs: number,
	warmupMs: number,
): Promise<FanoutResult> {
	// Tandem on Postgres (scale-out deployment): PGlite's in-process heap would drown the RSS per connection.
	const server = await startServer(kind, { database: "postgres" });
	const clients: WireClient[] = [];
	const timers: NodeJS.Timeout[] = [];
	try {
		const { names, token } = await prepareDocuments(server, scenario.documents);
		await sleep(500);
		const rssBefore = sampleProcess(server.pid).rssBytes;
		const perDocument = scenario.clients / scenario.documents;
		const writersPerDocument = Math.min(WRITERS_PER_DOCUMENT, perDocument);
		let measuring = false;
		let windowStart = 0;
		let updatesSent = 0;
		const latenciesMs: number[] = [];
		let expectedDeliveries = 0;
		const writerDocs: { doc: Y.Doc; client: () => WireClient; id: number }[] = [];

		const created = await inBatches(scenario.clients, CONNECT_CONCURRENCY, async (i) => {
			const documentIndex = i % scenario.documents;
			const name = names[documentIndex] as string;
			const isWriter = Math.floor(i / scenario.documents) < writersPerDocument;
			const doc = isWriter ? new Y.Doc() : undefined;
			const onUpdate = (update: Uint8Array) => {
				const bytes = Buffer.from(update.buffer, update.byteOffset, update.byteLength);
				let at = bytes.indexOf(MARKER);
				const received = nowMicros();
				while (at !== -1) {
					const end = bytes.indexOf(MARKER_END, at);
					const [writer, sent] = bytes
						.toString("latin1", at + 2, end)
						.split(":")
						.map(Number);
					if (writer !== i && measuring && (sent as number) >= windowStart) {
						latenciesMs.push((received - (sent as number)) / 1000);
					}
					at = bytes.indexOf(MARKER, end);
				}
			};
			const client = new WireClient({
				protocol: kind === "y-websocket" ? "y-websocket" : "hocuspocus",
				url: server.socketUrl(name),
				documentName: name,
				token,
				stateVector: doc ? Y.encodeStateVector(doc) : undefined,
				answerStep1: doc ? (vector) => Y.encodeStateAsUpdate(doc, vector) : undefined,
				onUpdate,
				keepaliveMs: 15_000,
			});
			clients.push(client);
			await client.whenSynced();
			if (doc) {
				doc.on("update", (update: Uint8Array) => client.sendUpdate(update));
				writerDocs.push({ doc, client: () => client, id: i });
			}
			return client;
		});
		await sleep(1_000);
		const rssConnected = sampleProcess(server.pid).rssBytes;

		// Each writer types 10 times a second from a random phase, so sends are spread evenly.
		const intervalMs = 1000 / UPDATES_PER_SECOND;
		for (const writer of writerDocs) {
			const text = codeText(writer.doc);
			const start = setTimeout(() => {
				const tick = () => {
					const stamp = nowMicros();
					text.insert(text.length, `<T${writer.id}:${stamp}>`);
					if (measuring && stamp >= windowStart) {
						updatesSent += 1;
						expectedDeliveries += perDocument - 1;
					}
				};
				tick();
				timers.push(setInterval(tick, intervalMs));
			}, Math.random() * intervalMs);
			timers.push(start);
		}
		await sleep(warmupMs);
		const cpuStart = sampleProcess(server.pid).cpuMicros;
		const clientCpuStart = process.cpuUsage();
		const loopDelay = monitorEventLoopDelay({ resolution: 10 });
		loopDelay.enable();
		windowStart = nowMicros();
		measuring = true;
		await sleep(windowMs);
		const windowEnd = nowMicros();
		const cpuEnd = sampleProcess(server.pid).cpuMicros;
		const clientCpu = process.cpuUsage(clientCpuStart);
		loopDelay.disable();
		for (const timer of timers) clearInterval(timer);
		// Let in-flight updates of the window arrive before counting them.
		await sleep(1_000);
		measuring = false;
		const sorted = latenciesMs.slice().sort((a, b) => a - b);
		const delivered = sorted.length;
		// CPU is sampled over the window; deliveries of updates sent in it are counted to the end.
		const cpuMicrosPerDelivery = (cpuEnd - cpuStart) / Math.max(1, delivered);
		void created;
		return {
			server: kind,
			scenario,
			writers: writerDocs.length,
			updatesSent,
			expectedDeliveries,
			delivered,
			p50Ms: quantile(sorted, 0.5),
			p99Ms: quantile(sorted, 0.99),
			maxMs: sorted.at(-1) ?? Number.NaN,
			cpuMicrosPerDelivery,
			rssPerConnectionBytes: (rssConnected - rssBefore) / scenario.clients,
			clientCpuPercent: ((clientCpu.user + clientCpu.system) / (windowEnd - windowStart)) * 100,
			clientLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
		};
	} finally {
		for (const timer of timers) clearInterval(timer);
		await Promise.all(clients.map((c) => c.close().catch(() => {})));
		await server.stop();
	}
}

/** Fan-out results for the smoke test. */
export interface FanoutChecks {
	readonly results: readonly FanoutResult[];
}

export default async function run(opts: {
	smoke: boolean;
}): Promise<{ title: string; markdown: string; checks: FanoutChecks }> {
	const scenarios = opts.smoke ? SMOKE : FULL;
	const windowMs = opts.smoke ? 2_000 : 10_000;
	const warmupMs = opts.smoke ? 500 : 2_000;
	const results: FanoutResult[] = [];
	for (const scenario of scenarios) {
		for (const kind of SERVERS) results.push(await runScenario(kind, scenario, windowMs, warmupMs));
	}
	const tandemOf = (r: FanoutResult) =>
		results.find((t) => t.server === "tandem" && t.scenario === r.scenario) as FanoutResult;
	const rows = results.map((r) => [
		`${fmt(r.scenario.clients)} on ${fmt(r.scenario.documents)} doc${r.scenario.documents > 1 ? "s" : ""}`,
		r.server,
		fmt(r.writers),
		`${fmt(r.delivered)} / ${fmt(r.expectedDeliveries)}`,
		fmt(r.p50Ms, 2),
		fmt(r.p99Ms, 2),
		fmt(r.cpuMicrosPerDelivery, 1),
		fmtBytes(r.rssPerConnectionBytes),
		`${fmt(r.clientCpuPercent)} %, ${fmt(r.clientLoopDelayP99Ms, 1)} ms`,
	]);
	const ratios = results
		.filter((r) => r.server !== "tandem")
		.map((r) => {
			const t = tandemOf(r);
			return [
				`${fmt(r.scenario.clients)} on ${fmt(r.scenario.documents)}`,
				`Tandem / ${r.server}`,
				`${fmt(t.p50Ms / r.p50Ms, 2)}×`,
				`${fmt(t.p99Ms / r.p99Ms, 2)}×`,
				`${fmt(t.cpuMicrosPerDelivery / r.cpuMicrosPerDelivery, 2)}×`,
				`${fmt(t.rssPerConnectionBytes / r.rssPerConnectionBytes, 2)}×`,
			];
		});
	// The client is the bottleneck when it is busy most of a core or its event loop stalls for tens of ms.
	const clientBound = results.filter((r) => r.clientCpuPercent > 80 || r.clientLoopDelayP99Ms > 50);
	const markdown = [
		`Each writer inserts a short stamped string ${UPDATES_PER_SECOND} times a second (one Yjs update each) from a random phase; ${WRITERS_PER_DOCUMENT} writers per document (people pair-programming), every other client only watches. A delivery is one update arriving at one other client of its document; latency is from the writer's send to that arrival, both timestamps from this one client process. Server CPU is utime+stime from /proc/<pid>/stat over a ${fmt(windowMs / 1000)} s window (after ${fmt(warmupMs / 1000, 1)} s of warm-up) divided by the deliveries of updates sent in that window (/proc counts in 10 ms ticks). RSS per connection is (server RSS with every client synced − RSS before the first connection) / clients; with 10 clients that delta is dominated by one-off allocations (the first document load, lazily compiled code), so read it from 100 clients up. Clients are light: raw Hocuspocus or y-websocket sync messages over \`ws\`, no Y.Doc for watchers, all in one process; *client CPU* is that process's CPU over the window (100 % = one core) and the p99 of its event-loop delay (how late a timer fires: a stalled client inflates every latency)${opts.smoke ? ". Smoke run: short window, 10 clients only." : "."}`,
		"",
		"Servers: Tandem's sync server (scale-out deployment on the machine's Postgres in a private schema, per-connection token and participant check, persistence, call signalling); a bare `@hocuspocus/server` (no extensions, in memory); `y-websocket@2`'s bin/server.cjs (in memory, which also echoes each update back to its sender).",
		"",
		table(
			[
				"clients",
				"server",
				"writers",
				"delivered / expected",
				"p50 ms",
				"p99 ms",
				"server CPU µs per delivery",
				"RSS per connection",
				"client CPU, loop delay p99",
			],
			rows,
		),
		"",
		table(["scenario", "ratio", "p50", "p99", "CPU per delivery", "RSS per connection"], ratios),
		"",
		clientBound.length > 0
			? `The client process was busy above 80 % of a core or its event loop stalled (p99 delay above 50 ms) in ${clientBound.map((r) => `${r.server} ${fmt(r.scenario.clients)}/${fmt(r.scenario.documents)}`).join(", ")}: there the latencies include client-side queueing, so the client is (part of) the bottleneck and those latencies are upper bounds.`
			: "The client process stayed below 80 % of a core with a p99 event-loop delay under 50 ms in every run, so it was not the bottleneck.",
	].join("\n");
	return { title: "Fan-out: live updates to many clients", markdown, checks: { results } };
}
