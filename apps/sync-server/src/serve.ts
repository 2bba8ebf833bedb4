import type { Config } from "./config.ts";
import { PRIVATE_UMASK } from "./db/privateDataDir.ts";
import { buildServer, type ServerDeps, type TandemServer } from "./server.ts";

function log(fields: Record<string, unknown>): void {
	console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
}

export interface ServeOptions {
	/** Runs after the server has drained and closed, before exit (e.g. close a runner pool). */
	readonly onShutdown?: () => Promise<void>;
}

/**
 * Set the umask to PRIVATE_UMASK, build the server, listen, log the `listening` line, and on SIGTERM/SIGINT drain, close,
 * run `onShutdown` and exit 0. Exits 1 when it cannot start.
 */
export async function serve(config: Config, deps: ServerDeps = {}, options: ServeOptions = {}): Promise<TandemServer> {
	// Files this process creates are its user's alone (RELIABILITY 49); code that shares a file with
	// another user (the sandbox) sets that file's mode itself.
	process.umask(PRIVATE_UMASK);
	const server = await buildServer(config, deps).catch((e: unknown) => {
		console.error(
			JSON.stringify({
				level: "fatal",
				msg: "startup failed",
				err: String(e),
				cause: String((e as Error)?.cause ?? ""),
			}),
		);
		process.exit(1);
	});
	try {
		await server.app.listen({ port: config.port, host: config.host });
	} catch (e: unknown) {
		console.error(
			JSON.stringify({ level: "fatal", msg: `cannot listen on ${config.host}:${config.port}`, err: String(e) }),
		);
		await server.close().catch(() => {});
		await options.onShutdown?.().catch(() => {});
		process.exit(1);
	}
	const address = server.app.server.address();
	const port = typeof address === "object" && address ? address.port : config.port;
	const host = config.host.includes(":") ? `[${config.host}]` : config.host;
	log({ msg: "listening", url: `http://${host}:${port}` });

	let stopping = false;
	async function shutdown(signal: string): Promise<void> {
		if (stopping) return;
		stopping = true;
		log({ msg: "draining", signal });
		try {
			await server.close();
			await options.onShutdown?.();
			log({ msg: "stopped" });
			process.exit(0);
		} catch (e: unknown) {
			console.error(JSON.stringify({ level: "error", msg: "shutdown failed", err: String(e) }));
			process.exit(1);
		}
	}
	process.on("SIGTERM", () => void shutdown("SIGTERM"));
	process.on("SIGINT", () => void shutdown("SIGINT"));
	return server;
}
