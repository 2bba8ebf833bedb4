// `node apps/sync-server/src/migrate.ts`: apply the SQL migrations in drizzle/ to the configured
// database (DATABASE_URL, DATABASE_SCHEMA, or PGlite in DATA_DIR) and exit: 0 when the schema is
// current, 1 with the reason on stderr otherwise. The Kubernetes migration Job runs it once per
// release; the sync-server nodes then start with MIGRATE_ON_START=false (docs/DEPLOY.md).
// Several copies at once are safe: Postgres migrations hold an advisory lock.
import { ConfigError, loadConfig } from "./config.ts";
import { openDatabase } from "./db/database.ts";
import { PRIVATE_UMASK } from "./db/privateDataDir.ts";

process.umask(PRIVATE_UMASK);
let code = 0;
try {
	const config = loadConfig();
	const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema });
	try {
		const before = await database.pendingMigrations();
		await database.migrate();
		const after = await database.pendingMigrations();
		if (after > 0) throw new Error(`${after} migration(s) still pending after migrating`);
		console.log(JSON.stringify({ msg: "migrated", database: database.kind, applied: before }));
	} finally {
		await database.close().catch(() => {});
	}
} catch (e: unknown) {
	console.error(
		e instanceof ConfigError ? e.message : `migration failed: ${e instanceof Error ? e.message : String(e)}`,
	);
	code = 1;
}
process.exit(code);
