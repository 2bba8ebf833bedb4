import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { eventually } from "./testServer.ts";

function ping(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = net.connect(port, "127.0.0.1");
		socket.once("error", () => resolve(false));
		socket.once("connect", () => socket.write("PING\r\n"));
		socket.once("data", (d) => {
			socket.destroy();
			resolve(d.toString().startsWith("+PONG"));
		});
	});
}

/** A private redis-server on `port` (no persistence), for fault tests: they stop it, never the machine's Redis. */
export async function startRedis(port: number): Promise<ChildProcess> {
	const child = spawn(
		"redis-server",
		["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
		{
			stdio: "ignore",
		},
	);
	const failed = new Promise<never>((_, reject) =>
		child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`))),
	);
	await Promise.race([eventually(() => ping(port), 50), failed]);
	return child;
}

export async function stopRedis(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null) return;
	const exited = new Promise((r) => child.once("exit", r));
	child.kill("SIGKILL");
	await exited;
}
