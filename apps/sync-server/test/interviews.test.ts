import { addTest, codeText, decodeDocument, readCode, readTests, removeTest, updateTest } from "@tandem/crdt-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestsLocked } from "../src/collab/closeEvents.ts";
import { runRouteGroup } from "../src/runs/runRouteGroup.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import {
	api,
	createSession,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
} from "./support/testServer.ts";

// Run routes without a queue: an allowed run answers 503 (no runner), a refused one 403 before that.
let s: RunningServer;
const clients: CollabClient[] = [];
type Account = Awaited<ReturnType<typeof registerUser>>;

beforeAll(async () => {
	s = await startTestServer({}, { routes: [runRouteGroup({ queue: null, unavailableReason: "no runner here" })] });
});
afterAll(async () => {
	for (const c of clients) c.destroy();
	await s?.close();
});

async function invite(owner: Account, sessionId: string, who: Account, role: string) {
	const res = await api(s.url, "POST", "/invite-user", {
		token: owner.token,
		body: { sessionId, userId: who.user.id, role },
	});
	expect(res.status).toBeLessThan(300);
	return res;
}

/** An owner's session with an interviewer, an editor and a viewer. */
async function interview() {
	const owner = await registerUser(s.url, "ivowner");
	const interviewer = await registerUser(s.url, "ivinterviewer");
	const editor = await registerUser(s.url, "ivcandidate");
	const viewer = await registerUser(s.url, "ivviewer");
	const session = await createSession(s.url, owner.token, { language: "python", code: "print(1)\n" });
	await invite(owner, session.id, interviewer, "interviewer");
	await invite(owner, session.id, editor, "editor");
	await invite(owner, session.id, viewer, "viewer");
	return { owner, interviewer, editor, viewer, sessionId: session.id as string };
}

const submit = (token: string, sessionId: string) =>
	api(s.url, "POST", "/submit-code", { token, body: { sessionId, code: "print(2)" } });
const runTests = (token: string, sessionId: string) =>
	api(s.url, "POST", `/session/${sessionId}/run-tests`, { token, body: {} });

describe("roles and invitations", () => {
	it("the owner and interviewers invite as interviewer, editor or viewer; editors and viewers cannot invite", async () => {
		const { owner, interviewer, editor, viewer, sessionId } = await interview();
		const got = await api(s.url, "GET", `/session/${sessionId}`, { token: owner.token });
		expect(got.body.participants.map((p: { role: string }) => p.role)).toEqual([
			"owner",
			"interviewer",
			"editor",
			"viewer",
		]);
		const newcomer = await registerUser(s.url, "ivnew");
		const byInterviewer = await api(s.url, "POST", "/invite-user", {
			token: interviewer.token,
			body: { sessionId, username: newcomer.user.username, role: "viewer" },
		});
		expect(byInterviewer.status).toBe(201);
		expect(byInterviewer.body.participant).toMatchObject({ userId: newcomer.user.id, role: "viewer" });
		for (const u of [editor, viewer]) {
			const res = await api(s.url, "POST", "/invite-user", {
				token: u.token,
				body: { sessionId, username: newcomer.user.username, role: "editor" },
			});
			expect(res.status).toBe(403);
		}
		const badRole = await api(s.url, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId, username: newcomer.user.username, role: "owner" },
		});
		expect(badRole.status).toBe(400);
		expect(badRole.body.error.message).toMatch(/interviewer/);
	});

	it("an email without an account gets a pending invitation that registering with it claims", async () => {
		const { owner, sessionId } = await interview();
		const email = `later${Date.now()}@Example.test`;
		const res = await api(s.url, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId, email, role: "editor" },
		});
		expect(res.status).toBe(201);
		expect(res.body).toEqual({ invitation: { email: email.toLowerCase(), role: "editor", status: "pending" } });
		const username = `later${Date.now()}`;
		const reg = await api(s.url, "POST", "/register", {
			body: { username, email, password: `a long pass phrase ${username}` },
		});
		expect(reg.status).toBe(201);
		const got = await api(s.url, "GET", `/session/${sessionId}`, { token: reg.body.token });
		expect(got.status).toBe(200);
		expect(got.body.participants).toContainEqual(
			expect.objectContaining({ userId: reg.body.user.id, role: "editor", guest: false }),
		);
	});
});

describe("invite links and POST /join", () => {
	it("the owner and interviewers make, list and revoke links; editors and viewers get 403", async () => {
		const { owner, interviewer, editor, viewer, sessionId } = await interview();
		const made = await api(s.url, "POST", `/session/${sessionId}/links`, {
			token: owner.token,
			body: { role: "editor" },
		});
		expect(made.status).toBe(201);
		expect(made.body).toMatchObject({ id: expect.any(String), role: "editor" });
		expect(made.body.url).toMatch(/\/join\/[A-Za-z0-9_-]{32}$/);
		const byInterviewer = await api(s.url, "POST", `/session/${sessionId}/links`, {
			token: interviewer.token,
			body: { role: "viewer" },
		});
		expect(byInterviewer.status).toBe(201);
		for (const u of [editor, viewer]) {
			expect(
				(await api(s.url, "POST", `/session/${sessionId}/links`, { token: u.token, body: { role: "viewer" } })).status,
			).toBe(403);
			expect((await api(s.url, "GET", `/session/${sessionId}/links`, { token: u.token })).status).toBe(403);
			expect(
				(await api(s.url, "DELETE", `/session/${sessionId}/links/${made.body.id}`, { token: u.token })).status,
			).toBe(403);
		}
		const bad = await api(s.url, "POST", `/session/${sessionId}/links`, {
			token: owner.token,
			body: { role: "interviewer" },
		});
		expect(bad.status).toBe(400);
		const list = await api(s.url, "GET", `/session/${sessionId}/links`, { token: interviewer.token });
		expect(list.status).toBe(200);
		expect(list.body.map((l: { id: string }) => l.id)).toEqual([made.body.id, byInterviewer.body.id]);

		const token = made.body.url.split("/join/")[1];
		const del = await api(s.url, "DELETE", `/session/${sessionId}/links/${made.body.id}`, { token: owner.token });
		expect(del.status).toBe(204);
		const again = await api(s.url, "DELETE", `/session/${sessionId}/links/${made.body.id}`, { token: owner.token });
		expect(again.status).toBe(404);
		const join = await api(s.url, "POST", "/join", { body: { token, name: "Too late" } });
		expect(join.status).toBe(404);
		expect(join.body.error.message).toMatch(/revoked/);
	});

	it("someone without an account joins by name as a guest who reaches only that session", async () => {
		const { owner, sessionId } = await interview();
		const other = await createSession(s.url, owner.token, {});
		const link = await api(s.url, "POST", `/session/${sessionId}/links`, {
			token: owner.token,
			body: { role: "editor" },
		});
		const token = link.body.url.split("/join/")[1];
		const noName = await api(s.url, "POST", "/join", { body: { token } });
		expect(noName.status).toBe(400);
		expect(noName.body.error.message).toMatch(/name/);
		const joined = await api(s.url, "POST", "/join", { body: { token, name: "Kim 🙂 Lê" } });
		expect(joined.status).toBe(200);
		expect(joined.body).toMatchObject({ sessionId, role: "editor", user: { username: "Kim 🙂 Lê", guest: true } });
		expect(joined.text.toLowerCase()).not.toContain("passwordhash");
		const guest = joined.body.token as string;

		const got = await api(s.url, "GET", `/session/${sessionId}`, { token: guest });
		expect(got.status).toBe(200);
		const participants = await api(s.url, "GET", `/session/${sessionId}/participants`, { token: guest });
		expect(participants.body).toContainEqual({
			userId: joined.body.user.id,
			username: "Kim 🙂 Lê",
			role: "editor",
			joinedAt: expect.any(String),
			guest: true,
		});
		expect((await api(s.url, "GET", `/session/${other.id}`, { token: guest })).status).toBe(403);
		expect((await api(s.url, "POST", "/create-session", { token: guest, body: {} })).status).toBe(403);
		const client = await connectClient(s.wsUrl, sessionId, guest);
		clients.push(client);
		await expect(connectClient(s.wsUrl, other.id, guest)).rejects.toThrow(/authentication failed/);

		// The guest opening a link of another session counts as no account: a name is needed.
		const otherLink = await api(s.url, "POST", `/session/${other.id}/links`, {
			token: owner.token,
			body: { role: "viewer" },
		});
		const otherToken = otherLink.body.url.split("/join/")[1];
		expect((await api(s.url, "POST", "/join", { token: guest, body: { token: otherToken } })).status).toBe(400);
		expect((await api(s.url, "GET", `/session/${other.id}`, { token: guest })).status).toBe(403);
	});

	it("someone logged in joins with their account, and a link never lowers a role they already have", async () => {
		const { owner, interviewer, sessionId } = await interview();
		const link = await api(s.url, "POST", `/session/${sessionId}/links`, {
			token: owner.token,
			body: { role: "viewer" },
		});
		const token = link.body.url.split("/join/")[1];
		const member = await registerUser(s.url, "ivmember");
		const joined = await api(s.url, "POST", "/join", { token: member.token, body: { token } });
		expect(joined.status).toBe(200);
		expect(joined.body).toMatchObject({ sessionId, role: "viewer", user: { id: member.user.id } });
		expect((await api(s.url, "GET", `/session/${sessionId}`, { token: joined.body.token })).status).toBe(200);
		const kept = await api(s.url, "POST", "/join", { token: interviewer.token, body: { token } });
		expect(kept.body.role).toBe("interviewer");
		expect((await api(s.url, "POST", "/join", { body: { token: "x".repeat(32), name: "n" } })).status).toBe(404);
	});
});

describe("participants", () => {
	it("the owner and interviewers change roles and remove people, the owner never; the person's sockets follow at once", async () => {
		const { owner, interviewer, editor, viewer, sessionId } = await interview();
		const list = await api(s.url, "GET", `/session/${sessionId}/participants`, { token: viewer.token });
		expect(list.status).toBe(200);
		expect(list.body).toHaveLength(4);
		expect(list.body[0]).toEqual({
			userId: owner.user.id,
			username: owner.user.username,
			role: "owner",
			joinedAt: expect.any(String),
			guest: false,
		});
		const editorClient = await connectClient(s.wsUrl, sessionId, editor.token);
		const viewerClient = await connectClient(s.wsUrl, sessionId, viewer.token);
		clients.push(editorClient, viewerClient);

		for (const u of [editor, viewer]) {
			const put = await api(s.url, "PUT", `/session/${sessionId}/participants/${owner.user.id}`, {
				token: u.token,
				body: { role: "viewer" },
			});
			expect(put.status).toBe(403);
		}
		const ownerChange = await api(s.url, "PUT", `/session/${sessionId}/participants/${owner.user.id}`, {
			token: interviewer.token,
			body: { role: "viewer" },
		});
		expect(ownerChange.status).toBe(403);
		const ownerRemoval = await api(s.url, "DELETE", `/session/${sessionId}/participants/${owner.user.id}`, {
			token: interviewer.token,
		});
		expect(ownerRemoval.status).toBe(403);
		const unknown = await api(s.url, "PUT", `/session/${sessionId}/participants/nobody`, {
			token: owner.token,
			body: { role: "viewer" },
		});
		expect(unknown.status).toBe(404);

		const down = await api(s.url, "PUT", `/session/${sessionId}/participants/${editor.user.id}`, {
			token: interviewer.token,
			body: { role: "viewer" },
		});
		expect(down.status).toBe(200);
		expect(down.body).toMatchObject({ userId: editor.user.id, role: "viewer" });
		await eventually(() => editorClient.stateless.some((p) => p.includes('"role":"viewer"')));

		let closed = false;
		viewerClient.provider.on("close", () => {
			closed = true;
		});
		const removed = await api(s.url, "DELETE", `/session/${sessionId}/participants/${viewer.user.id}`, {
			token: owner.token,
		});
		expect(removed.status).toBe(204);
		await eventually(() => closed);
		expect((await api(s.url, "GET", `/session/${sessionId}`, { token: viewer.token })).status).toBe(403);
		expect(
			(await api(s.url, "DELETE", `/session/${sessionId}/participants/${viewer.user.id}`, { token: owner.token }))
				.status,
		).toBe(404);
	});
});

describe("ending an interview", () => {
	it("POST /end makes editors read-only with runs refused until /reopen; GET /session carries endedAt", async () => {
		const { owner, interviewer, editor, viewer, sessionId } = await interview();
		expect((await api(s.url, "GET", `/session/${sessionId}`, { token: editor.token })).body.endedAt).toBeNull();
		expect((await submit(editor.token, sessionId)).status).toBe(503);
		const ownerClient = await connectClient(s.wsUrl, sessionId, owner.token);
		const editorClient = await connectClient(s.wsUrl, sessionId, editor.token);
		// A second tab of the candidate's that tries to type while ended (a page would not let it).
		const editorTab = await connectClient(s.wsUrl, sessionId, editor.token);
		clients.push(ownerClient, editorClient, editorTab);

		expect((await api(s.url, "POST", `/session/${sessionId}/end`, { token: editor.token })).status).toBe(403);
		expect((await api(s.url, "POST", `/session/${sessionId}/end`, { token: viewer.token })).status).toBe(403);
		const ended = await api(s.url, "POST", `/session/${sessionId}/end`, { token: interviewer.token });
		expect(ended.status).toBe(200);
		expect(typeof ended.body.endedAt).toBe("string");
		expect((await api(s.url, "GET", `/session/${sessionId}`, { token: editor.token })).body.endedAt).toBe(
			ended.body.endedAt,
		);
		await eventually(() => editorClient.stateless.some((p) => p.includes('"ended":true')));
		expect((await submit(editor.token, sessionId)).status).toBe(403);
		expect((await runTests(editor.token, sessionId)).status).toBe(403);
		expect((await submit(interviewer.token, sessionId)).status).toBe(503);

		await eventually(() => editorTab.stateless.some((p) => p.includes('"ended":true')));
		codeText(editorTab.doc).insert(0, "[candidate]");
		codeText(ownerClient.doc).insert(0, "[owner]");
		await eventually(() => readCode(editorClient.doc).includes("[owner]"));
		editorTab.destroy();
		expect(readCode(ownerClient.doc)).not.toContain("[candidate]");

		const reopened = await api(s.url, "POST", `/session/${sessionId}/reopen`, { token: owner.token });
		expect(reopened.status).toBe(200);
		expect(reopened.body.endedAt).toBeNull();
		await eventually(() => editorClient.stateless.some((p) => p.includes('"ended":false')));
		expect((await submit(editor.token, sessionId)).status).toBe(503);
		codeText(editorClient.doc).insert(0, "[again]");
		await eventually(() => readCode(ownerClient.doc).includes("[again]"));
	});
});

describe("who runs and who changes tests", () => {
	it("viewers cannot run code or tests (403); editors and interviewers can", async () => {
		const { interviewer, editor, viewer, sessionId } = await interview();
		const refused = await submit(viewer.token, sessionId);
		expect(refused.status).toBe(403);
		expect(refused.body.error.message).toMatch(/Viewers cannot run/);
		expect((await api(s.url, "POST", "/execute-code", { token: viewer.token, body: { sessionId } })).status).toBe(403);
		expect((await runTests(viewer.token, sessionId)).status).toBe(403);
		for (const u of [editor, interviewer]) expect((await submit(u.token, sessionId)).status).toBe(503);
	});

	it("only the owner and interviewers change tests, visible or hidden, through REST (403 for others)", async () => {
		const { owner, interviewer, editor, viewer, sessionId } = await interview();
		const visible = await api(s.url, "POST", `/session/${sessionId}/tests`, {
			token: interviewer.token,
			body: { name: "v", stdin: "1", expected: "1" },
		});
		expect(visible.status).toBe(201);
		const hidden = await api(s.url, "POST", `/session/${sessionId}/tests`, {
			token: interviewer.token,
			body: { name: "secret", stdin: "2", expected: "2", hidden: true },
		});
		expect(hidden.status).toBe(201);
		for (const u of [editor, viewer]) {
			const base = `/session/${sessionId}/tests`;
			expect(
				(await api(s.url, "POST", base, { token: u.token, body: { name: "x", stdin: "", expected: "" } })).status,
			).toBe(403);
			for (const id of [visible.body.id, hidden.body.id]) {
				expect((await api(s.url, "PUT", `${base}/${id}`, { token: u.token, body: { expected: "9" } })).status).toBe(
					403,
				);
				expect((await api(s.url, "DELETE", `${base}/${id}`, { token: u.token })).status).toBe(403);
			}
			const seen = await api(s.url, "GET", base, { token: u.token });
			expect(seen.body.map((t: { name: string }) => t.name)).toEqual(["v"]);
		}
		const all = await api(s.url, "GET", `/session/${sessionId}/tests`, { token: owner.token });
		expect(all.body.map((t: { name: string }) => t.name)).toEqual(["v", "secret"]);
		const edited = await api(s.url, "PUT", `/session/${sessionId}/tests/${hidden.body.id}`, {
			token: interviewer.token,
			body: { expected: "3" },
		});
		expect(edited.status).toBe(200);
	});

	it("an editor's change to the document's tests is refused by the server: never stored, never seen by anyone", async () => {
		const { owner, interviewer, editor, sessionId } = await interview();
		const added = await api(s.url, "POST", `/session/${sessionId}/tests`, {
			token: interviewer.token,
			body: { name: "kept", stdin: "1", expected: "1" },
		});
		expect(added.status).toBe(201);
		const ownerClient = await connectClient(s.wsUrl, sessionId, owner.token);
		const editorClient = await connectClient(s.wsUrl, sessionId, editor.token);
		clients.push(ownerClient, editorClient);
		await eventually(() => readTests(editorClient.doc).length === 1);

		// The candidate edits the code: allowed, it reaches the owner.
		codeText(editorClient.doc).insert(0, "# candidate\n");
		await eventually(() => readCode(ownerClient.doc).startsWith("# candidate\n"));

		const closes: string[] = [];
		// Hocuspocus closes the document's channel with the close event's reason.
		editorClient.provider.on("close", (e: { event: { reason: string } }) => closes.push(e.event.reason));
		// Change the expected output, delete the test, and add one: each refused.
		updateTest(editorClient.doc, added.body.id, { expected: "hacked" });
		await eventually(() => closes.includes(TestsLocked.reason));
		removeTest(editorClient.doc, added.body.id);
		addTest(editorClient.doc, { id: "evil", name: "evil", stdin: "", expected: "" });

		// The owner's later change arrives and is stored; the candidate's test changes never are.
		codeText(ownerClient.doc).insert(0, "# owner after\n");
		const storedCode = async () => {
			const state = await s.server.ctx.store.loadDocument(sessionId);
			return state ? readCode(decodeDocument(state)) : "";
		};
		await eventually(async () => (await storedCode()).includes("# owner after"), 50);
		const stored = decodeDocument(await s.server.ctx.store.loadDocument(sessionId));
		expect(readTests(stored)).toEqual([{ id: added.body.id, name: "kept", stdin: "1", expected: "1" }]);
		const live = s.server.hocuspocus.documents.get(sessionId);
		expect(live && readTests(live)).toEqual([{ id: added.body.id, name: "kept", stdin: "1", expected: "1" }]);
		expect(readTests(ownerClient.doc)).toEqual([{ id: added.body.id, name: "kept", stdin: "1", expected: "1" }]);
		const rest = await api(s.url, "GET", `/session/${sessionId}/tests`, { token: owner.token });
		expect(rest.body).toEqual([{ id: added.body.id, name: "kept", stdin: "1", expected: "1", hidden: false }]);
		editorClient.destroy();
	});

	it("an interviewer's change to the document's tests reaches everyone", async () => {
		const { interviewer, editor, sessionId } = await interview();
		const interviewerClient = await connectClient(s.wsUrl, sessionId, interviewer.token);
		const editorClient = await connectClient(s.wsUrl, sessionId, editor.token);
		clients.push(interviewerClient, editorClient);
		addTest(interviewerClient.doc, { id: "t1", name: "one", stdin: "", expected: "1" });
		await eventually(() => readTests(editorClient.doc).length === 1);
	});
});
