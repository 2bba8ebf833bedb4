import type { FastifyInstance } from "fastify";
import { findUserById } from "../auth/users.ts";
import { ApiError } from "../http/errors.ts";
import type { ServerContext } from "../server.ts";
import type { UserEvent } from "./UserEvents.ts";

/** A comment line every so often keeps proxies from closing an idle stream. */
export const HEARTBEAT_MS = 25_000;
/** Open streams per user (tabs and devices); one more is refused with 429. */
export const MAX_STREAMS_PER_USER = 8;

export interface EventStreams {
	/** End every open stream (drain). */
	closeAll(): void;
	/** Open streams on this node. */
	count(): number;
}

/**
 * GET /events: Server-Sent Events for the authenticated user (Bearer or cookie). Ends when the
 * token is revoked (checked every `recheckMs`) and when the node drains.
 */
export function registerEventRoutes(app: FastifyInstance, ctx: ServerContext, recheckMs: number): EventStreams {
	const open = new Set<() => void>();
	const perUser = new Map<string, number>();

	app.get("/events", async (request, reply) => {
		if (ctx.state.draining) throw new ApiError("unavailable", "Server is shutting down");
		const user = await ctx.requireUser(request);
		const count = perUser.get(user.id) ?? 0;
		if (count >= MAX_STREAMS_PER_USER) {
			throw new ApiError("rate_limited", "Too many open event streams", { headers: { "retry-after": "30" } });
		}
		perUser.set(user.id, count + 1);

		reply.hijack();
		const res = reply.raw;
		res.writeHead(200, {
			"content-type": "text/event-stream; charset=utf-8",
			"cache-control": "no-store",
			connection: "keep-alive",
			"x-accel-buffering": "no",
		});
		res.write("retry: 5000\n: connected\n\n");

		const send = (event: UserEvent) => {
			res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
		};
		const unsubscribe = ctx.events.subscribe(user.id, send);
		const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), HEARTBEAT_MS);
		let checking = false;
		const recheck = setInterval(() => {
			if (checking) return;
			checking = true;
			findUserById(ctx.db, user.id)
				.then((row) => {
					if (!row || row.tokenVersion !== user.tokenVersion) end();
				})
				.catch(() => {})
				.finally(() => {
					checking = false;
				});
		}, recheckMs);

		let ended = false;
		function end(): void {
			if (ended) return;
			ended = true;
			clearInterval(heartbeat);
			clearInterval(recheck);
			unsubscribe();
			open.delete(end);
			const left = (perUser.get(user.id) ?? 1) - 1;
			if (left > 0) perUser.set(user.id, left);
			else perUser.delete(user.id);
			res.end();
		}
		open.add(end);
		request.raw.on("close", end);
		res.on("close", end);
		res.on("error", end);
	});

	return {
		closeAll: () => {
			for (const end of [...open]) end();
		},
		count: () => open.size,
	};
}
