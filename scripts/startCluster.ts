// `npm run start:cluster`: scale-out on one machine (issue 14). A private redis-server on a free port,
// the migrations run once (apps/sync-server/src/migrate.ts), 3 sync-server nodes and 2 runners as
// child processes, and HAProxy with deploy/haproxy/haproxy.cfg in front of the nodes
// (/collab/{sessionId} by a consistent hash of the session id). Ctrl-C stops everything.
//
// Environment: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/tandem_cluster; the database is
// created when missing), TANDEM_LB_BIND (default 127.0.0.1:8080), SYNC_NODES (default 3), RUNNERS (default 2).
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/tandem_cluster";
const LB_BIND = process.env.TANDEM_LB_BIND ?? "127.0.0.1:8080";
const SYNC_NODES = Number(process.env.SYNC_NODES ?? 3);
const RUNNERS = Number(process.env.RUNNERS ?? 2);
/** The HAProxy configuration names three nodes (SYNC_NODE_1..3). */
const HAPROXY_NODES = 3;

const children: { name: string; child: ChildProcess }[] = [];
let stopping = false;

function log(msg: string): void {
	console.log(`start:cluster: ${msg}`);
}

/** Print why, stop whatever started, exit 1. */
async function fatal(msg: string): Promise<never> {
	console.error(`start:cluster: ${msg}`);
	await stopAll(1);
	throw new Error(msg);
}

/** A free TCP port on loopback. */
function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.once("error", reject);
		srv.listen(0, "127.0.0.1", () => {
			const a = srv.address();
			srv.close(() => (a && typeof a === "object" ? resolve(a.port) : reject(new Error("no port"))));
		});
	});
}

/** Start a child whose output is prefixed with its name; resolves when `ready` matches its output. */
function start(
	name: string,
	cmd: string,
	args: string[],
	env: Record<string, string>,
	ready?: RegExp,
): Promise<string> {
	// detached: a terminal's Ctrl-C reaches only this script, which stops the children in order
	// (balancer, nodes draining, then Redis) instead of all at once.
	const child = spawn(cmd, args, {
		cwd: ROOT,
		env: { ...process.env, ...env },
		stdio: ["ignore", "pipe", "pipe"],
		detached: true,
	});
	children.push({ name, child });
	let seen = "";
	return new Promise((resolve, reject) => {
		const onData = (chunk: Buffer) => {
			const text = chunk.toString();
			for (const line of text.split("\n")) if (line.trim()) process.stdout.write(`[${name}] ${line}\n`);
			if (ready && seen.length < 1_000_000) {
				seen += text;
				const m = ready.exec(seen);
				if (m) {
					seen = "";
					resolve(m[1] ?? m[0]);
				}
			}
		};
		child.stdout?.on("data", onData);
		child.stderr?.on("data", onData);
		child.once("error", (e) => reject(new Error(`${name}: ${e.message}`)));
		child.once("exit", (code, signal) => {
			if (!stopping && code !== 0) log(`${name} exited (${code ?? signal})`);
			reject(new Error(`${name} exited with ${code ?? signal} before it was ready`));
		});
		if (!ready) resolve("");
	});
}

async function stopAll(code: number): Promise<void> {
	if (stopping) return;
	stopping = true;
	log("stopping");
	// Balancer first, then the nodes drain (SIGTERM), then Redis.
	for (const group of [["haproxy"], ["sync", "runner"], ["redis"]]) {
		const running = children.filter(
			({ name, child }) => group.some((g) => name.startsWith(g)) && child.exitCode === null,
		);
		await Promise.all(
			running.map(
				({ child }) =>
					new Promise<void>((resolve) => {
						const kill = setTimeout(() => child.kill("SIGKILL"), 40_000);
						child.once("exit", () => {
							clearTimeout(kill);
							resolve();
						});
						child.kill("SIGTERM");
					}),
			),
		);
	}
	process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

async function ensureDatabase(url: string): Promise<void> {
	const u = new URL(url);
	const name = decodeURIComponent(u.pathname.slice(1));
	u.pathname = "/postgres";
	const admin = postgres(u.toString(), { max: 1, onnotice: () => {} });
	try {
		const rows = await admin`select 1 from pg_database where datname = ${name}`;
		if (rows.length === 0) {
			await admin.unsafe(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
			log(`created database ${name}`);
		}
	} finally {
		await admin.end();
	}
}

if (SYNC_NODES !== HAPROXY_NODES)
	await fatal(`deploy/haproxy/haproxy.cfg names ${HAPROXY_NODES} nodes: SYNC_NODES must be 3`);
await ensureDatabase(DATABASE_URL).catch((e: unknown) =>
	fatal(`cannot reach Postgres at ${DATABASE_URL}: ${String(e)}`),
);

const redisPort = await freePort();
const REDIS_URL = `redis://127.0.0.1:${redisPort}`;
await start(
	"redis",
	"redis-server",
	["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
	{},
	/Ready to accept connections/,
).catch((e: unknown) => fatal(`redis-server: ${String(e)} (apt-get install redis-server)`));

const common = { DATABASE_URL, REDIS_URL, RUN_QUEUE_PREFIX: "tandem", REDIS_PREFIX: "tandem" };
await start("migrate", process.execPath, ["apps/sync-server/src/migrate.ts"], common, /"msg":"migrated"/).catch(
	(e: unknown) => fatal(String(e)),
);

const nodeUrls = await Promise.all(
	Array.from({ length: SYNC_NODES }, async (_, i) => {
		const port = await freePort();
		return start(
			`sync-${i + 1}`,
			process.execPath,
			["apps/sync-server/src/main.ts"],
			{
				...common,
				PORT: String(port),
				HOST: "127.0.0.1",
				NODE_ID: `sync-${i + 1}`,
				TRUST_PROXY: "127.0.0.1",
				MIGRATE_ON_START: "false",
				LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
			},
			/"msg":"listening","url":"(http:\/\/[^"]+)"/,
		);
	}),
).catch((e: unknown) => fatal(String(e)));

for (let i = 0; i < RUNNERS; i++) {
	// A runner that cannot start its sandbox (no bubblewrap) exits: the cluster runs on, Run answers why.
	start(`runner-${i + 1}`, process.execPath, ["apps/runner/src/main.ts"], common).catch(() => {});
}

const lbEnv = Object.fromEntries(nodeUrls.map((u, i) => [`SYNC_NODE_${i + 1}`, new URL(u).host]));
await start(
	"haproxy",
	"haproxy",
	["-db", "-f", path.join(ROOT, "deploy/haproxy/haproxy.cfg")],
	// The file's default maxconn 100000 needs ~200k file descriptors; a desktop's limit is far lower.
	{ ...lbEnv, TANDEM_LB_BIND: LB_BIND, TANDEM_LB_MAXCONN: process.env.TANDEM_LB_MAXCONN ?? "4096" },
).catch((e: unknown) => fatal(`haproxy: ${String(e)} (scripts/setup-system.sh installs it)`));

const lbUrl = `http://${LB_BIND}`;
for (;;) {
	const ok = await fetch(`${lbUrl}/readyz`).then(
		(r) => r.status === 200,
		() => false,
	);
	if (ok) break;
	await new Promise((r) => setTimeout(r, 200));
}
log(
	`ready: ${lbUrl} (HAProxy) → ${nodeUrls.join(", ")}; Redis ${REDIS_URL}; Postgres ${DATABASE_URL}. Ctrl-C stops all.`,
);
