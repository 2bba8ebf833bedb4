import { ConfigError, loadConfig } from "./config.ts";
import { buildServer } from "./server.ts";

function log(fields: Record<string, unknown>): void {
	console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
}

let config: ReturnType<typeof loadConfig>;
try {
	config = loadConfig();
} catch (e: unknown) {
	console.error(e instanceof ConfigError ? e.message : e);
	process.exit(1);
}

const server = await buildServer(config).catch((e: unknown) => {
	console.error(
		JSON.stringify({ level: "fatal", msg: "startup failed", err: String(e), cause: String((e as Error)?.cause ?? "") }),
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
		log({ msg: "stopped" });
		process.exit(0);
	} catch (e: unknown) {
		console.error(JSON.stringify({ level: "error", msg: "shutdown failed", err: String(e) }));
		process.exit(1);
	}
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
