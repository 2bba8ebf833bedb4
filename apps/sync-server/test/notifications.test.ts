import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChildServer, spawnServer } from "./support/childServer.ts";
import {
	api,
	createSession,
	databaseUrl,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
	TEST_DATABASE_URL,
	TEST_REDIS_URL,
} from "./support/testServer.ts";

interface Received {
	readonly type: string;
	readonly data: any;
}

/** An open GET /events stream, parsed as it arrives. */
interface Stream {
	readonly status: number;
	readonly headers: Headers;
	readonly events: Received[];
	/** Resolves when the server ends the stream. */
	readonly ended: Promise<void>;
	close(): void;
}

async function openStream(base: string, token: string, via: "bearer" | "cookie" = "bearer"): Promise<Stream> {
	const abort = new AbortController();
	const headers: Record<string, string> =
		via === "bearer" ? { authorization: `Bearer ${token}` } : { cookie: `tandem_token=${token}` };
	const res = await fetch(`${base}/events`, { headers, signal: abort.signal });
	const events: Received[] = [];
	let buffer = "";
	const ended = (async () => {
		if (!res.body) return;
		const decoder = new TextDecoder();
		const reader = res.body.getReader();
		try {
			for (;;) {
				const { done, value } = await reader.read();
				if (done) return;
				buffer += decoder.decode(value, { stream: true });
				let cut = buffer.indexOf("\n\n");
				while (cut >= 0) {
					const block = buffer.slice(0, cut);
					buffer = buffer.slice(cut + 2);
					const type = /^event: (.+)$/m.exec(block)?.[1];
					const data = /^data: (.+)$/m.exec(block)?.[1];
					if (type && data) events.push({ type, data: JSON.parse(data) });
					cut = buffer.indexOf("\n\n");
				}
			}
		} catch {
			// aborted by close()
		}
	})();
	return { status: res.status, headers: res.headers, events, ended, close: () => abort.abort() };
}

const streams: Stream[] = [];
async function stream(base: string, token: string, via: "bearer" | "cookie" = "bearer"): Promise<Stream> {
	const s = await openStream(base, token, via);
	streams.push(s);
	return s;
}

describe("GET /events on one node", () => {
	let server: RunningServer;
	beforeAll(async () => {
		server = await startTestServer();
	});
	afterAll(async () => {
		for (const s of streams) s.close();
		await server.close();
	});

	it("answers 401 without a token, and never caches the stream", async () => {
		const res = await api(server.url, "GET", "/events");
		expect(res.status).toBe(401);
		const alice = await registerUser(server.url, "sseheaders");
		const s = await stream(server.url, alice.token);
		expect(s.status).toBe(200);
		expect(s.headers.get("content-type")).toContain("text/event-stream");
		expect(s.headers.get("cache-control")).toBe("no-store");
	});

	it("tells the invitee who invited them to which session, and nobody else", async () => {
		const alice = await registerUser(server.url, "sseowner");
		const bob = await registerUser(server.url, "sseinvitee");
		const carol = await registerUser(server.url, "ssebystander");
		const bobStream = await stream(server.url, bob.token);
		const carolStream = await stream(server.url, carol.token);
		const session = await createSession(server.url, alice.token, { title: "Two sum", language: "go" });
		const invite = await api(server.url, "POST", "/invite-user", {
			token: alice.token,
			body: { sessionId: session.id, username: bob.user.username, role: "viewer" },
		});
		expect(invite.status).toBe(201);
		await eventually(() => bobStream.events.length > 0);
		expect(bobStream.events).toEqual([
			{
				type: "session.invited",
				data: {
					type: "session.invited",
					by: { id: alice.user.id, username: alice.user.username },
					session: { id: session.id, title: "Two sum", language: "go", role: "viewer" },
				},
			},
		]);
		// Carol's stream hears her own next event and nothing before it.
		await createSession(server.url, carol.token, { title: "mine" });
		await eventually(() => carolStream.events.length > 0);
		expect(carolStream.events.map((e) => e.type)).toEqual(["session.created"]);
	});

	it("tells the owner's other tabs about a session they created (the stream authenticated by the cookie, as EventSource does)", async () => {
		const alice = await registerUser(server.url, "ssecreator");
		const tab = await stream(server.url, alice.token, "cookie");
		expect(tab.status).toBe(200);
		const session = await createSession(server.url, alice.token, { title: "From the laptop", language: "rust" });
		await eventually(() => tab.events.length > 0);
		expect(tab.events[0]?.data).toEqual({
			type: "session.created",
			session: { id: session.id, title: "From the laptop", language: "rust", role: "owner" },
		});
	});

	it("ends the stream when the token is revoked by logout", async () => {
		const alice = await registerUser(server.url, "sselogout");
		const s = await stream(server.url, alice.token);
		expect(s.status).toBe(200);
		expect((await api(server.url, "POST", "/logout", { token: alice.token })).status).toBeLessThan(300);
		await s.ended;
		expect((await api(server.url, "GET", "/events", { token: alice.token })).status).toBe(401);
	});

	it("refuses a user's streams beyond the bound", async () => {
		const alice = await registerUser(server.url, "ssemany");
		const opened: Stream[] = [];
		for (let i = 0; i < 8; i++) opened.push(await stream(server.url, alice.token));
		expect(opened.every((s) => s.status === 200)).toBe(true);
		const extra = await stream(server.url, alice.token);
		expect(extra.status).toBe(429);
		opened[0]?.close();
		await eventually(async () => {
			const again = await stream(server.url, alice.token);
			return again.status === 200;
		});
	});
});

describe("GET /events across two nodes over Postgres and Redis", () => {
	const dbName = `tandem_test_${Math.random().toString(36).slice(2, 10)}`;
	const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
	const nodes: ChildServer[] = [];

	beforeAll(async () => {
		await admin.unsafe(`CREATE DATABASE "${dbName}"`);
		const env = {
			DATABASE_URL: databaseUrl(dbName),
			REDIS_URL: TEST_REDIS_URL,
			REDIS_PREFIX: dbName,
			DATA_DIR: "/nonexistent-unused",
		};
		nodes.push(...(await Promise.all([spawnServer(env), spawnServer(env)])));
	}, 60_000);

	afterAll(async () => {
		for (const s of streams) s.close();
		for (const n of nodes) await n.stop("SIGTERM");
		await admin.unsafe(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
		await admin.end();
	});

	it("an invite made on node A reaches the invitee's stream on node B, and SIGTERM still exits 0", async () => {
		const [a, b] = nodes as [ChildServer, ChildServer];
		const alice = await registerUser(a.url, "ssenodea");
		const bob = await registerUser(b.url, "ssenodeb");
		const onB = await stream(b.url, bob.token);
		expect(onB.status).toBe(200);
		const session = await createSession(a.url, alice.token, { title: "Across nodes" });
		await api(a.url, "POST", "/invite-user", {
			token: alice.token,
			body: { sessionId: session.id, userId: bob.user.id, role: "editor" },
		});
		await eventually(() => onB.events.length > 0);
		expect(onB.events[0]?.data).toMatchObject({
			type: "session.invited",
			by: { username: alice.user.username },
			session: { id: session.id, title: "Across nodes", role: "editor" },
		});
		// A node with an open stream drains it and exits cleanly.
		expect(await b.stop("SIGTERM")).toBe(0);
		await onB.ended;
	});
});
