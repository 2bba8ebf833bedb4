import { codeText } from "@tandem/crdt-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { participants } from "../src/db/schema.ts";
import { MAX_NOTES_BYTES } from "../src/interview/notesRoutes.ts";
import { isManager } from "../src/sessions/roles.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import {
	api,
	createSession,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
} from "./support/testServer.ts";

type User = Awaited<ReturnType<typeof registerUser>>;
let s: RunningServer;
let owner: User;
let interviewer: User;
let editor: User;
let viewer: User;
let stranger: User;

/** A session with one participant of every role. The interviewer role is written as another branch's invite will. */
async function newSession(): Promise<string> {
	const session = await createSession(s.url, owner.token, { code: "print(1)\n" });
	for (const [u, role] of [
		[editor, "editor"],
		[viewer, "viewer"],
	] as const) {
		const res = await api(s.url, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, userId: u.user.id, role },
		});
		expect(res.status).toBe(201);
	}
	await s.server.ctx.db
		.insert(participants)
		.values({ sessionId: session.id, userId: interviewer.user.id, role: "interviewer" });
	return session.id;
}

const getNotes = (token: string, id: string) => api(s.url, "GET", `/session/${id}/notes`, { token });
const putNotes = (token: string, id: string, body: unknown) =>
	api(s.url, "PUT", `/session/${id}/notes`, { token, body });

beforeAll(async () => {
	s = await startTestServer();
	owner = await registerUser(s.url, "nowner");
	interviewer = await registerUser(s.url, "ninterviewer");
	editor = await registerUser(s.url, "neditor");
	viewer = await registerUser(s.url, "nviewer");
	stranger = await registerUser(s.url, "nstranger");
}, 120_000);

afterAll(async () => {
	await s?.close();
});

describe("private notes (CONTRACT Interviewer tools, decision 058)", () => {
	it("isManager: the owner and interviewers only", () => {
		expect(isManager("owner")).toBe(true);
		expect(isManager("interviewer")).toBe(true);
		for (const role of ["editor", "viewer", "guest", "", null, undefined]) expect(isManager(role)).toBe(false);
	});

	it("the owner and an interviewer read and write them; any string survives, U+0000 included", async () => {
		const id = await newSession();
		const empty = await getNotes(owner.token, id);
		expect(empty.status).toBe(200);
		expect(empty.body).toEqual({ text: "", updatedAt: null });

		const text = "# Candidate\n- strong on \u0000 edge cases \u0010 ok 😀\n";
		const put = await putNotes(owner.token, id, { text });
		expect(put.status).toBe(200);
		expect(put.body.text).toBe(text);
		expect(Number.isNaN(Date.parse(put.body.updatedAt))).toBe(false);

		const read = await getNotes(interviewer.token, id);
		expect(read.status).toBe(200);
		expect(read.body).toEqual(put.body);

		const byInterviewer = await putNotes(interviewer.token, id, { text: "second" });
		expect(byInterviewer.status).toBe(200);
		expect((await getNotes(owner.token, id)).body.text).toBe("second");
	});

	it("editors, viewers and strangers get 403; an unknown session 404; no credentials 401", async () => {
		const id = await newSession();
		await putNotes(owner.token, id, { text: "private" });
		for (const u of [editor, viewer, stranger]) {
			const get = await getNotes(u.token, id);
			expect(get.status).toBe(403);
			expect(get.text).not.toContain("private");
			expect((await putNotes(u.token, id, { text: "overwrite" })).status).toBe(403);
		}
		expect((await getNotes(owner.token, id)).body.text).toBe("private");
		expect((await getNotes(owner.token, "A".repeat(21))).status).toBe(404);
		expect((await api(s.url, "GET", `/session/${id}/notes`)).status).toBe(401);
	});

	it("text limits: 413 past MAX_NOTES_BYTES, 400 for a missing text or an unpaired surrogate", async () => {
		const id = await newSession();
		const atLimit = "x".repeat(MAX_NOTES_BYTES);
		expect((await putNotes(owner.token, id, { text: atLimit })).status).toBe(200);
		const past = await putNotes(owner.token, id, { text: `${atLimit}é` });
		expect(past.status).toBe(413);
		expect(past.body.error.message).toContain(String(MAX_NOTES_BYTES));
		expect((await putNotes(owner.token, id, {})).status).toBe(400);
		expect((await putNotes(owner.token, id, { text: 5 })).status).toBe(400);
		const surrogate = await putNotes(owner.token, id, '{"text":"a\\ud800b"}');
		expect(surrogate.status).toBe(400);
		expect((await getNotes(owner.token, id)).body.text).toBe(atLimit);
	});

	it("notes never reach editors or viewers: not GET /session, GET /sessions, the document or broadcasts", async () => {
		const id = await newSession();
		const SECRET = "NOTES-SECRET-z81q";
		const clients: CollabClient[] = [];
		try {
			const ownerClient = await connectClient(s.wsUrl, id, owner.token);
			clients.push(ownerClient);
			const interviewerClient = await connectClient(s.wsUrl, id, interviewer.token);
			clients.push(interviewerClient);
			const editorClient = await connectClient(s.wsUrl, id, editor.token);
			clients.push(editorClient);
			const viewerClient = await connectClient(s.wsUrl, id, viewer.token);
			clients.push(viewerClient);

			expect((await putNotes(owner.token, id, { text: SECRET })).status).toBe(200);
			// Interviewers hear of it live.
			for (const c of [ownerClient, interviewerClient]) {
				await eventually(() => c.stateless.some((p) => p.includes(SECRET)));
				const message = JSON.parse(c.stateless.find((p) => p.includes(SECRET)) as string);
				expect(message).toMatchObject({ type: "notes", text: SECRET, by: { id: owner.user.id } });
			}
			// A change made after the PUT reaches editor and viewer: anything sent them before it has arrived.
			codeText(ownerClient.doc).insert(0, "# marker\n");
			for (const c of [editorClient, viewerClient]) {
				await eventually(() => codeText(c.doc).toString().startsWith("# marker"));
				expect(c.stateless.join("\n")).not.toContain(SECRET);
				expect(Buffer.from(Y.encodeStateAsUpdate(c.doc)).toString("latin1")).not.toContain(SECRET);
			}
			for (const u of [editor, viewer]) {
				const session = await api(s.url, "GET", `/session/${id}`, { token: u.token });
				expect(session.status).toBe(200);
				expect(session.text).not.toContain(SECRET);
				const list = await api(s.url, "GET", "/sessions", { token: u.token });
				expect(list.status).toBe(200);
				expect(list.text).not.toContain(SECRET);
			}
			// Nor the stored document anyone loads later.
			const fresh = await connectClient(s.wsUrl, id, editor.token);
			clients.push(fresh);
			expect(Buffer.from(Y.encodeStateAsUpdate(fresh.doc)).toString("latin1")).not.toContain(SECRET);
		} finally {
			for (const c of clients) c.destroy();
		}
	});
});
