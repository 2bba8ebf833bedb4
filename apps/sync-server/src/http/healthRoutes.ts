import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../server.ts";

/** GET /livez (the process runs) and GET /readyz (database reachable, migrated, not draining). */
export function registerHealthRoutes(app: FastifyInstance, ctx: ServerContext): void {
	app.get("/livez", async () => ({ status: "ok" }));
	app.get("/readyz", async (_request, reply) => {
		if (ctx.state.draining) return reply.status(503).send({ status: "draining" });
		if (!ctx.state.migrated) return reply.status(503).send({ status: "starting" });
		try {
			await ctx.database.ping();
		} catch {
			return reply.status(503).send({ status: "database unavailable" });
		}
		return { status: "ready" };
	});
}
