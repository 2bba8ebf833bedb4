import type { Hocuspocus } from "@hocuspocus/server";
import { findUserById } from "../auth/users.ts";
import type { Db } from "../db/database.ts";
import { accessOf } from "../sessions/sessionRepository.ts";
import { applyAccess, closeUserConnections } from "./AuthExtension.ts";
import { isCollabContext } from "./collabContext.ts";

/**
 * Re-checks the role, the interview's end and the token version behind every open socket of
 * this node, so a downgrade, removal, end of interview or logout made on another node reaches
 * this one within one interval (RELIABILITY 20, 27). Local changes are applied at once by the
 * routes themselves.
 */
export class AccessWatcher {
	private timer: NodeJS.Timeout | undefined;
	private running = false;
	private readonly db: Db;
	private readonly hocuspocus: Hocuspocus;
	private readonly intervalMs: number;

	constructor(db: Db, hocuspocus: Hocuspocus, intervalMs: number) {
		this.db = db;
		this.hocuspocus = hocuspocus;
		this.intervalMs = intervalMs;
	}

	start(): void {
		this.timer ??= setInterval(() => void this.sweep(), this.intervalMs);
		this.timer.unref();
	}

	stop(): void {
		if (this.timer) clearInterval(this.timer);
		this.timer = undefined;
	}

	/** One pass over the open sockets; errors are logged and the next pass tries again. */
	async sweep(): Promise<void> {
		if (this.running) return;
		this.running = true;
		try {
			const pairs = new Map<
				string,
				{ sessionId: string; userId: string; role: string; ended: boolean; tokenVersion: number }
			>();
			for (const document of this.hocuspocus.documents.values()) {
				for (const connection of document.getConnections()) {
					const c = connection.context as unknown;
					if (!isCollabContext(c)) continue;
					pairs.set(`${document.name}\0${c.user.id}`, {
						sessionId: document.name,
						userId: c.user.id,
						role: c.role,
						ended: c.ended,
						tokenVersion: c.tokenVersion,
					});
				}
			}
			const versions = new Map<string, number | null>();
			for (const pair of pairs.values()) {
				if (!versions.has(pair.userId))
					versions.set(pair.userId, (await findUserById(this.db, pair.userId))?.tokenVersion ?? null);
				if (versions.get(pair.userId) !== pair.tokenVersion) {
					closeUserConnections(this.hocuspocus, pair.userId);
					continue;
				}
				const access = await accessOf(this.db, pair.sessionId, pair.userId);
				const role = access?.role ?? null;
				const ended = access ? access.endedAt !== null : pair.ended;
				if (role !== pair.role || ended !== pair.ended) {
					applyAccess(this.hocuspocus, pair.sessionId, (c) => (c.user.id === pair.userId ? { role, ended } : null));
				}
			}
		} catch (e: unknown) {
			console.error(JSON.stringify({ level: "error", msg: "access sweep failed", err: String(e) }));
		} finally {
			this.running = false;
		}
	}
}
