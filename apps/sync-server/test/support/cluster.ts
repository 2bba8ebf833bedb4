import { Redis } from "ioredis";
import postgres from "postgres";
import { type ChildServer, spawnServer } from "./childServer.ts";
import { storedState } from "./storedState.ts";
import { databaseUrl, TEST_DATABASE_URL, TEST_REDIS_URL } from "./testServer.ts";
import { codeOfState } from "./typists.ts";

/**
 * Sync-server child processes over a private database on the machine's Postgres and a private
 * key prefix on its Redis; `destroy()` kills what is left and drops both, also after a failure.
 */
export interface Cluster {
	readonly env: Record<string, string>;
	readonly nodes: Set<ChildServer>;
	spawn(extraEnv?: Record<string, string>): Promise<ChildServer>;
	/** The session's code as the database holds it (snapshot and update log, decoded). */
	storedCode(sessionId: string): Promise<string>;
	readonly sql: postgres.Sql;
	destroy(): Promise<void>;
}

export async function startCluster(name: string, env: Record<string, string>): Promise<Cluster> {
	const dbName = `tandem_${name}_${Math.random().toString(36).slice(2, 10)}`;
	const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
	await admin.unsafe(`CREATE DATABASE "${dbName}"`);
	const url = databaseUrl(dbName);
	const sql = postgres(url, { max: 2, onnotice: () => {} });
	const nodes = new Set<ChildServer>();
	const fullEnv = {
		DATABASE_URL: url,
		REDIS_URL: TEST_REDIS_URL,
		REDIS_PREFIX: dbName,
		DATA_DIR: "/nonexistent-unused",
		...env,
	};
	return {
		env: fullEnv,
		nodes,
		sql,
		async spawn(extraEnv = {}) {
			const node = await spawnServer({ ...fullEnv, ...extraEnv });
			nodes.add(node);
			node.child.once("exit", () => nodes.delete(node));
			return node;
		},
		async storedCode(sessionId) {
			return codeOfState(await storedState(sql, sessionId));
		},
		async destroy() {
			await Promise.all([...nodes].map((n) => n.stop("SIGKILL")));
			await sql.end();
			await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
			await admin.end();
			const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
			try {
				await redis.connect();
				const keys = await redis.keys(`${dbName}*`);
				if (keys.length > 0) await redis.del(...keys);
			} finally {
				redis.disconnect();
			}
		},
	};
}
