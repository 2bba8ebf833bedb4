import type { Server as HttpServer, IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Hocuspocus, WebSocketLike } from "@hocuspocus/server";
import crossws from "crossws/adapters/node";
import { isAllowedOrigin } from "../http/origin.ts";
import { isSessionId } from "../sessions/sessionIds.ts";
import { ConnectionMemoryReclaimer, exposedGc } from "./ConnectionMemoryReclaimer.ts";
import { UPGRADE_REFUSALS } from "./closeEvents.ts";

export interface CollabUpgradeOptions {
	readonly maxPayloadBytes: number;
	readonly allowedOrigins: readonly string[];
	/** Whether the Host header names this server (RELIABILITY 51); default: any. */
	readonly allowedHost?: (host: string | undefined) => boolean;
	/** False while draining: new sockets are refused with 503. */
	readonly accepting: () => boolean;
	/** Counts sockets and collects garbage after many closed; default: with Node's `gc` when exposed. */
	readonly reclaimer?: ConnectionMemoryReclaimer;
}

/** The open collaboration sockets of one server, for draining. */
export interface CollabSockets {
	/** How many sockets are open. */
	open(): number;
	/** Close up to `count` sockets (oldest first) with 1012 "Server restarting"; returns how many it closed. */
	closeSome(count: number): number;
	/** Close every socket at once and stop the memory reclaimer. */
	closeAll(): void;
}

/** Paths that upgrade to the collaboration socket: `/collab` and `/collab/{sessionId}`. */
export function isCollabPath(pathname: string): boolean {
	if (pathname === "/collab" || pathname === "/collab/") return true;
	const match = /^\/collab\/([^/]+)$/.exec(pathname);
	return match !== null && isSessionId(match[1]);
}

function refuse(socket: Duplex, response: string): void {
	socket.end(response);
	socket.destroy();
}

/**
 * Serve Hocuspocus on an existing HTTP server's `upgrade` event, the way
 * @hocuspocus/server's Server class does it (crossws), with a frame size cap
 * (RELIABILITY 16) and an Origin check (RELIABILITY 28). Returns the open sockets, to close them when draining.
 */
export function attachCollabUpgrade(
	server: HttpServer,
	hocuspocus: Hocuspocus,
	options: CollabUpgradeOptions,
): CollabSockets {
	// Insertion order: a drain closes the oldest sockets first.
	const peers = new Set<{ close(code?: number, reason?: string): void }>();
	const reclaimer = options.reclaimer ?? new ConnectionMemoryReclaimer({ reclaim: exposedGc() });
	const ws = crossws({
		serverOptions: { maxPayload: options.maxPayloadBytes },
		hooks: {
			open: (peer) => {
				reclaimer.opened();
				peers.add(peer);
				const connection = hocuspocus.handleConnection(
					peer.websocket as unknown as WebSocketLike,
					peer.request as Request,
				);
				(peer as unknown as { _hocuspocus?: typeof connection })._hocuspocus = connection;
			},
			message: (peer, message) => {
				(peer as unknown as { _hocuspocus?: { handleMessage(d: Uint8Array): void } })._hocuspocus?.handleMessage(
					message.uint8Array(),
				);
			},
			close: (peer, event) => {
				reclaimer.closed();
				peers.delete(peer);
				(
					peer as unknown as { _hocuspocus?: { handleClose(e: { code: number; reason: string }): void } }
				)._hocuspocus?.handleClose({
					code: event.code ?? 1000,
					reason: event.reason ?? "",
				});
			},
			error: (peer, error) => {
				console.error(JSON.stringify({ level: "warn", msg: "websocket error", peer: peer.id, err: String(error) }));
			},
		},
	});

	server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
		socket.on("error", () => socket.destroy());
		let pathname: string;
		try {
			pathname = new URL(request.url ?? "/", "http://localhost").pathname;
		} catch {
			refuse(socket, UPGRADE_REFUSALS.notFound);
			return;
		}
		if (!isCollabPath(pathname)) return refuse(socket, UPGRADE_REFUSALS.notFound);
		if (options.allowedHost && !options.allowedHost(request.headers.host)) {
			return refuse(socket, UPGRADE_REFUSALS.badHost);
		}
		if (!isAllowedOrigin(request.headers.origin, request.headers.host, options.allowedOrigins)) {
			return refuse(socket, UPGRADE_REFUSALS.forbiddenOrigin);
		}
		if (!options.accepting()) return refuse(socket, UPGRADE_REFUSALS.unavailable);
		ws.handleUpgrade(request, socket, head).catch((e: unknown) => {
			console.error(JSON.stringify({ level: "warn", msg: "upgrade failed", err: String(e) }));
			socket.destroy();
		});
	});

	return {
		open: () => peers.size,
		closeSome(count) {
			let closed = 0;
			for (const peer of peers) {
				if (closed >= count) break;
				// Removed now: its close event comes later, and the next batch must not count it again.
				peers.delete(peer);
				peer.close(1012, "Server restarting");
				closed++;
			}
			return closed;
		},
		closeAll() {
			reclaimer.stop();
			peers.clear();
			ws.closeAll(1012, "Server restarting");
		},
	};
}
