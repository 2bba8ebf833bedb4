import type postgres from "postgres";
import * as Y from "yjs";

/**
 * A session's stored Yjs state as the database holds it: the snapshot (`documents.state`) merged
 * with the update log rows not yet compacted into it (decision 053). Null when nothing is stored.
 */
export async function storedState(sql: postgres.Sql, sessionId: string): Promise<Uint8Array | null> {
	const snapshot = await sql`select state from documents where session_id = ${sessionId}`;
	const log =
		await sql`select update from document_updates where session_id = ${sessionId} and not compacted order by id`;
	const parts = [...snapshot.map((r) => r.state as Uint8Array), ...log.map((r) => r.update as Uint8Array)];
	if (parts.length === 0) return null;
	return Y.mergeUpdates(parts.map((p) => new Uint8Array(p)));
}
