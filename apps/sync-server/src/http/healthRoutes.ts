import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../server.ts";

/**
 * GET /livez (the process runs) and GET /readyz (database reachable, migrated, not draining).
 * Both name this node (`nodeId`, NODE_ID), so a check through a load balancer shows which node answered.
 */
export function registerHealthRoutes(app: FastifyInstance, ctx: ServerContext): void {
	const nodeId = ctx.config.nodeId;
	app.get("/livez", async () => ({ status: "ok", nodeId }));
	app.get("/readyz", async (_request, reply) => {
		if (ctx.state.draining) return reply.status(503).send({ status: "draining", nodeId });
		if (!ctx.state.migrated) return reply.status(503).send({ status: "starting", nodeId });
		try {
			await ctx.database.ping();
		} catch {
			return reply.status(503).send({ status: "database unavailable", nodeId });
		}
		return { status: "ready", nodeId };
	});
}
