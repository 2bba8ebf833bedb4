import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { readMigrationFiles } from "drizzle-orm/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { DEFAULT_DATABASE_POOL_MAX } from "../config.ts";
import { makeDataDirPrivate } from "./privateDataDir.ts";
import * as schema from "./schema.ts";

/** The SQL migrations folder at the repository root (one folder for PGlite and Postgres). */
export const MIGRATIONS_FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../drizzle");

// Arbitrary constant shared by every node: "tandem" in ASCII.
const MIGRATION_LOCK_KEY = 0x74616e64656d;

/** A drizzle database over either driver; both speak the same Postgres dialect. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** An open database: queries, migrations, a liveness probe and shutdown. */
export interface Database {
	readonly db: Db;
	readonly kind: "pglite" | "postgres";
	migrate(): Promise<void>;
	/**
	 * How many migrations of MIGRATIONS_FOLDER the database has not applied yet (0: the schema is
	 * current). Reads drizzle's journal table the way its migrator does: a migration counts as applied
	 * when its folder timestamp is not after the newest applied one. Changes nothing.
	 */
	pendingMigrations(): Promise<number>;
	ping(): Promise<void>;
	close(): Promise<void>;
}

export interface DatabaseOptions {
	/** postgres:// URL; undefined means file-backed PGlite in `dataDir/pglite`. */
	readonly url: string | undefined;
	readonly dataDir: string;
	/** Postgres schema to hold the tables and the migrations journal. */
	readonly schema?: string | undefined;
	/** "transaction" behind PgBouncer in transaction mode (see postgresClientOptions); default "session". */
	readonly poolMode?: "session" | "transaction";
	/** Connections at most (default DEFAULT_DATABASE_POOL_MAX). */
	readonly poolMax?: number;
	/** A direct server for migrations (they hold a session advisory lock); default `url`. */
	readonly migrationUrl?: string | undefined;
}

/** The postgres.js options of the query pool: what a pooler in front of Postgres allows. */
export interface PostgresClientOptions {
	readonly max: number;
	/** False in transaction mode: a named prepared statement lives on one server connection, which the next transaction may not get. */
	readonly prepare: boolean;
	readonly onnotice: () => void;
	readonly connection: { search_path?: string };
}

/**
 * postgres.js options for DATABASE_URL (issue 13 step 5): `poolMax` connections; in "transaction" mode
 * (PgBouncer `pool_mode = transaction`) no named prepared statements.
 */
export function postgresClientOptions(
	options: Pick<DatabaseOptions, "schema" | "poolMode" | "poolMax">,
): PostgresClientOptions {
	return {
		max: options.poolMax ?? DEFAULT_DATABASE_POOL_MAX,
		prepare: options.poolMode !== "transaction",
		onnotice: () => {},
		connection: options.schema ? { search_path: options.schema } : {},
	};
}

/** Where drizzle keeps its journal: the `drizzle` schema unless the tables live in their own schema. */
function journalTable(dbSchema: string | undefined): string {
	return `"${dbSchema ?? "drizzle"}"."__drizzle_migrations"`;
}

/** Journal entries newer than the newest applied one (`newestApplied` in ms; null: none applied). */
function countPending(newestApplied: number | null): number {
	const all = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
	return all.filter((m) => newestApplied === null || m.folderMillis > newestApplied).length;
}

/** The newest applied migration's timestamp from a `select max(created_at)` row; null when none. */
function newestFrom(rows: readonly Record<string, unknown>[]): number | null {
	const v = rows[0]?.newest;
	return v === null || v === undefined ? null : Number(v);
}

/** Open (but do not migrate) the configured database. */
export function openDatabase(options: DatabaseOptions): Database {
	if (options.url) return openPostgres({ ...options, url: options.url });
	// The database holds the token secret and password hashes: only this user may read it (RELIABILITY 49).
	makeDataDirPrivate(options.dataDir);
	return openPglite(path.join(options.dataDir, "pglite"), options.schema);
}

function openPostgres(options: DatabaseOptions & { url: string }): Database {
	const dbSchema = options.schema;
	const pool = postgresClientOptions(options);
	const client = postgres(options.url, { ...pool, connection: { ...pool.connection } });
	const db = drizzlePostgres({ client, schema }) as unknown as Db;
	return {
		db,
		kind: "postgres",
		async migrate() {
			// Several nodes may boot at once: one connection holds an advisory lock while it migrates.
			const single = postgres(options.migrationUrl ?? options.url, {
				max: 1,
				onnotice: () => {},
				connection: dbSchema ? { search_path: dbSchema } : {},
			});
			try {
				await single`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
				if (dbSchema) await single.unsafe(`CREATE SCHEMA IF NOT EXISTS "${dbSchema}"`);
				await migratePostgres(drizzlePostgres({ client: single }), {
					migrationsFolder: MIGRATIONS_FOLDER,
					...(dbSchema ? { migrationsSchema: dbSchema } : {}),
				});
				await single`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
			} finally {
				await single.end({ timeout: 5 });
			}
		},
		async pendingMigrations() {
			const [exists] = await client`select to_regclass(${journalTable(dbSchema)}) is not null as present`;
			if (!exists?.present) return countPending(null);
			const rows = await client.unsafe(`select max(created_at) as newest from ${journalTable(dbSchema)}`);
			return countPending(newestFrom(rows));
		},
		async ping() {
			await db.execute(sql`select 1`);
		},
		async close() {
			await client.end({ timeout: 5 });
		},
	};
}

function openPglite(dir: string, dbSchema: string | undefined): Database {
	makeDataDirPrivate(dir);
	const client = new PGlite(dir);
	const db = drizzlePglite({ client, schema }) as unknown as Db;
	return {
		db,
		kind: "pglite",
		async migrate() {
			// A new database is unpacked from PGlite's bundled image with the image's modes (0666), which
			// chmod sets whatever the umask: make it private once it is there (RELIABILITY 49).
			await client.waitReady;
			makeDataDirPrivate(dir);
			if (dbSchema) {
				await client.exec(`CREATE SCHEMA IF NOT EXISTS "${dbSchema}"; SET search_path TO "${dbSchema}"`);
			}
			await migratePglite(db as never, {
				migrationsFolder: MIGRATIONS_FOLDER,
				...(dbSchema ? { migrationsSchema: dbSchema } : {}),
			});
		},
		async pendingMigrations() {
			await client.waitReady;
			const exists = await client.query<{ present: boolean }>("select to_regclass($1) is not null as present", [
				journalTable(dbSchema),
			]);
			if (!exists.rows[0]?.present) return countPending(null);
			const result = await client.query<Record<string, unknown>>(
				`select max(created_at) as newest from ${journalTable(dbSchema)}`,
			);
			return countPending(newestFrom(result.rows));
		},
		async ping() {
			await db.execute(sql`select 1`);
		},
		async close() {
			await client.close();
		},
	};
}
