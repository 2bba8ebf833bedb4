// A bare @hocuspocus/server for the fan-out benchmark: no extensions, no persistence, no
// auth; the baseline Tandem's sync server adds its hooks to.
import { Server } from "@hocuspocus/server";

const server = new Server({ port: 0, address: "127.0.0.1", quiet: true });
await server.listen();
console.log(JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${server.address.port}` }));

async function stop(): Promise<void> {
	await server.destroy();
	process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
