import { codeText, readCode } from "@tandem/crdt-schema";
import { afterAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { type PrivatePostgres, startPrivatePostgres } from "./support/privatePostgres.ts";
import {
	api,
	createSession,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
} from "./support/testServer.ts";

let pg: PrivatePostgres | undefined;
let s: RunningServer | undefined;
const clients: CollabClient[] = [];

afterAll(async () => {
	for (const c of clients) c.destroy();
	await s?.close();
	pg?.destroy();
});

async function storedCode(server: RunningServer, id: string): Promise<string | null> {
	const state = await server.server.ctx.store.loadDocument(id);
	if (!state) return null;
	const doc = new Y.Doc();
	Y.applyUpdate(doc, state);
	return readCode(doc);
}

describe("Postgres down (RELIABILITY 34)", () => {
	it("keeps edits in memory, answers 503 (not 500), and stores the edits after recovery without further typing", async () => {
		pg = await startPrivatePostgres();
		s = await startTestServer({ DATABASE_URL: pg.url });
		const u = await registerUser(s.url, "outage");
		const session = await createSession(s.url, u.token, { code: "before" });
		const c = await connectClient(s.wsUrl, session.id, u.token);
		clients.push(c);

		pg.stop();
		codeText(c.doc).insert(codeText(c.doc).length, " during outage");
		const live = () => s?.server.hocuspocus.documents.get(session.id);
		await eventually(() => {
			const doc = live();
			return doc !== undefined && readCode(doc) === "before during outage";
		});
		const login = await api(s.url, "POST", "/login", { body: { username: u.user.username, password: u.password } });
		expect(login.status).toBe(503);
		expect(login.body.error.code).toBe("unavailable");
		expect((await api(s.url, "GET", "/readyz")).status).toBe(503);

		pg.start();
		const server = s;
		await eventually(async () => {
			try {
				return (await storedCode(server, session.id)) === "before during outage";
			} catch {
				return false;
			}
		}, 200);
		expect(
			(await api(s.url, "POST", "/login", { body: { username: u.user.username, password: u.password } })).status,
		).toBe(200);
		expect((await api(s.url, "GET", "/readyz")).status).toBe(200);
	}, 60_000);
});
