// A child process holding a share of the connection benchmark's idle sockets (one process
// cannot hold 20,000 client sockets under a 20,000 fd limit next to everything else).
// Parent → worker: {type:"open", ...OpenRequest} then {type:"close"}; worker → parent: the replies below.
import { WireClient } from "./syncWire.ts";

/** What the parent asks a worker to open. */
export interface OpenRequest {
	readonly url: string;
	readonly documentName: string;
	readonly token: string;
	readonly count: number;
	readonly concurrency: number;
	readonly keepaliveMs: number;
}

/** Worker → parent messages. */
export type WorkerReply = { type: "opened"; opened: number; failed: number; firstError?: string } | { type: "closed" };

const clients: WireClient[] = [];

async function open(request: OpenRequest): Promise<void> {
	let next = 0;
	let failed = 0;
	let firstError: string | undefined;
	const worker = async () => {
		while (next < request.count) {
			next += 1;
			const client = new WireClient({
				protocol: "hocuspocus",
				url: request.url,
				documentName: request.documentName,
				token: request.token,
				keepaliveMs: request.keepaliveMs,
			});
			try {
				await client.whenSynced();
				clients.push(client);
			} catch (e: unknown) {
				failed += 1;
				firstError ??= String(e);
				await client.close().catch(() => {});
			}
		}
	};
	await Promise.all(Array.from({ length: request.concurrency }, worker));
	send({ type: "opened", opened: clients.length, failed, firstError });
}

async function closeAll(): Promise<void> {
	await Promise.all(clients.map((c) => c.close()));
	clients.length = 0;
	send({ type: "closed" });
}

function send(reply: WorkerReply): void {
	process.send?.(reply);
}

process.on("message", (message: { type: string } & Partial<OpenRequest>) => {
	if (message.type === "open") void open(message as OpenRequest);
	else if (message.type === "close") void closeAll();
	else if (message.type === "exit") process.exit(0);
});
process.on("disconnect", () => process.exit(0));
