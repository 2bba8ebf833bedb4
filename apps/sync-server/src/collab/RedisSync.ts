import { SkipFurtherHooksError } from "@hocuspocus/common";
import { type Configuration, Redis } from "@hocuspocus/extension-redis";
import type { onStoreDocumentPayload } from "@hocuspocus/server";

/**
 * The Hocuspocus Redis extension, with one change: when another node holds the store
 * lock, this node's store is retried after the lock's lifetime instead of dropped, because
 * edits made on this node are stored only by this node (updates that arrive over Redis
 * skip the store hooks). Stores merge into the stored state, so retrying is safe.
 */
export class RedisSync extends Redis {
	override async onStoreDocument(payload: onStoreDocumentPayload): Promise<void> {
		try {
			await super.onStoreDocument(payload);
		} catch (e: unknown) {
			if (e instanceof SkipFurtherHooksError) {
				const { instance, document } = payload;
				setTimeout(() => {
					if (instance.documents.get(document.name) === document) void instance.storeDocumentHooks(document, payload);
				}, this.configuration.lockTimeout).unref();
			}
			throw e;
		}
	}
}

/** Extension options from a redis:// URL. */
export function redisSyncConfig(url: string, prefix: string): Partial<Configuration> {
	const u = new URL(url);
	return {
		host: u.hostname,
		port: Number(u.port || 6379),
		prefix: `${prefix}:collab`,
		options: {
			...(u.username ? { username: decodeURIComponent(u.username) } : {}),
			...(u.password ? { password: decodeURIComponent(u.password) } : {}),
			...(u.protocol === "rediss:" ? { tls: {} } : {}),
			db: Number(u.pathname.replace("/", "") || 0),
		},
	};
}
