import { MAX_TEST_FIELD_BYTES, MAX_TESTS_PER_SESSION, readCode, readLanguage, readTests } from "@tandem/crdt-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { MAX_DESCRIPTION_BYTES } from "../src/interview/questions.ts";
import { runRouteGroup } from "../src/runs/runRouteGroup.ts";
import { connectClient } from "./support/collabClient.ts";
import { api, createSession, type RunningServer, registerUser, startTestServer } from "./support/testServer.ts";

type User = Awaited<ReturnType<typeof registerUser>>;
let s: RunningServer;
let author: User;
let other: User;

const HIDDEN_STDIN = "HIDDEN-STDIN-k2p9";
const HIDDEN_EXPECTED = "HIDDEN-EXPECTED-w7";

function questionBody(overrides: Record<string, unknown> = {}) {
	return {
		title: "Two sum",
		language: "python",
		code: "def solve():\r\n    pass\n",
		description: "# Two sum\nGiven \u0000 numbers…",
		tests: [
			{ name: "small", stdin: "1 2\n", expected: "3\n", hidden: false },
			{ name: "nul \u0000 name", stdin: "a\u0000b", expected: "ok", hidden: false },
			{ name: "secret", stdin: HIDDEN_STDIN, expected: HIDDEN_EXPECTED, hidden: true },
		],
		...overrides,
	};
}

const post = (token: string, body: unknown) => api(s.url, "POST", "/questions", { token, body });

beforeAll(async () => {
	s = await startTestServer({}, { routes: [runRouteGroup({ queue: null })] });
	author = await registerUser(s.url, "qauthor");
	other = await registerUser(s.url, "qother");
}, 120_000);

afterAll(async () => {
	await s?.close();
});

describe("question library (CONTRACT Interviewer tools, decision 058)", () => {
	it("POST /questions answers 201 with the question; GET returns it whole, U+0000 included", async () => {
		const created = await post(author.token, questionBody());
		expect(created.status).toBe(201);
		expect(typeof created.body.id).toBe("string");
		expect(created.body).toMatchObject({ ...questionBody(), code: "def solve():\n    pass\n" });
		const read = await api(s.url, "GET", `/questions/${created.body.id}`, { token: author.token });
		expect(read.status).toBe(200);
		expect(read.body).toEqual(created.body);
	});

	it("GET /questions lists the caller's own, paged", async () => {
		const me = await registerUser(s.url, "qlister");
		const ids: string[] = [];
		for (const title of ["one", "two", "three"]) ids.push((await post(me.token, questionBody({ title }))).body.id);
		await post(other.token, questionBody({ title: "not mine" }));
		const first = await api(s.url, "GET", "/questions?limit=2", { token: me.token });
		expect(first.status).toBe(200);
		expect(first.body.questions).toHaveLength(2);
		expect(first.body.nextCursor).toEqual(expect.any(String));
		const second = await api(s.url, "GET", `/questions?limit=2&cursor=${first.body.nextCursor}`, { token: me.token });
		expect(second.body.questions).toHaveLength(1);
		expect(second.body.nextCursor).toBeNull();
		const seen = [...first.body.questions, ...second.body.questions].map((q: { id: string }) => q.id);
		expect(seen.sort()).toEqual([...ids].sort());
		expect((await api(s.url, "GET", "/questions?cursor=nonsense", { token: me.token })).status).toBe(400);
		expect((await api(s.url, "GET", "/questions")).status).toBe(401);
	});

	it("PUT replaces and DELETE removes, for the owner; anyone else gets 404 and changes nothing", async () => {
		const id = (await post(author.token, questionBody())).body.id;
		const path = `/questions/${id}`;
		expect((await api(s.url, "GET", path, { token: other.token })).status).toBe(404);
		expect(
			(await api(s.url, "PUT", path, { token: other.token, body: questionBody({ title: "hijack" }) })).status,
		).toBe(404);
		// A stranger's invalid body still answers 404: nothing tells them the question exists.
		expect((await api(s.url, "PUT", path, { token: other.token, body: {} })).status).toBe(404);
		expect((await api(s.url, "DELETE", path, { token: other.token })).status).toBe(404);
		expect((await api(s.url, "POST", "/create-session", { token: other.token, body: { questionId: id } })).status).toBe(
			404,
		);
		const unknown = await api(s.url, "GET", `/questions/${"Z".repeat(24)}`, { token: other.token });
		expect(unknown.status).toBe(404);
		expect(unknown.body).toEqual((await api(s.url, "GET", path, { token: other.token })).body);

		const put = await api(s.url, "PUT", path, {
			token: author.token,
			body: questionBody({ title: "Three sum", tests: [] }),
		});
		expect(put.status).toBe(200);
		expect(put.body).toMatchObject({ id, title: "Three sum", tests: [] });
		expect((await api(s.url, "GET", path, { token: author.token })).body.title).toBe("Three sum");

		expect((await api(s.url, "DELETE", path, { token: author.token })).status).toBe(204);
		expect((await api(s.url, "GET", path, { token: author.token })).status).toBe(404);
	});

	it("bad input: 400 in words for missing or wrong fields, 413 past the session limits", async () => {
		const bad: [unknown, number][] = [
			[{ ...questionBody(), title: undefined }, 400],
			[questionBody({ title: "   " }), 400],
			[questionBody({ language: "cobol-85" }), 400],
			[questionBody({ code: 5 }), 400],
			[questionBody({ tests: [{ name: "x", stdin: 1, expected: "" }] }), 400],
			[questionBody({ description: "x".repeat(MAX_DESCRIPTION_BYTES + 1) }), 413],
			[questionBody({ tests: [{ name: "big", stdin: "x".repeat(MAX_TEST_FIELD_BYTES + 1), expected: "" }] }), 413],
			[
				questionBody({
					tests: Array.from({ length: MAX_TESTS_PER_SESSION + 1 }, (_, i) => ({
						name: `t${i}`,
						stdin: "",
						expected: "",
					})),
				}),
				413,
			],
		];
		for (const [body, status] of bad) {
			const res = await post(author.token, body);
			expect(res.status, JSON.stringify(res.body)).toBe(status);
			expect(res.body.error.message).toEqual(expect.any(String));
		}
		const surrogate = await post(author.token, JSON.stringify(questionBody()).replace("Two sum", "Two \\ud800 sum"));
		expect(surrogate.status).toBe(400);
		expect(surrogate.body.error.message).toContain("surrogate");
		const mine = await api(s.url, "GET", "/questions", { token: author.token });
		expect(mine.body.questions.every((q: { title: string }) => q.title === "Two sum")).toBe(true);
	});

	it("POST /create-session {questionId} starts a session with its code, language, description and tests; hidden ones stay on the server", async () => {
		const qid = (await post(author.token, questionBody({ language: "javascript" }))).body.id;
		const created = await api(s.url, "POST", "/create-session", { token: author.token, body: { questionId: qid } });
		expect(created.status).toBe(201);
		const sessionId = created.body.id;
		expect(created.body).toMatchObject({
			title: "Two sum",
			language: "javascript",
			code: "def solve():\n    pass\n",
			description: "# Two sum\nGiven \u0000 numbers…",
		});

		const editor = await registerUser(s.url, "qeditor");
		const invite = await api(s.url, "POST", "/invite-user", {
			token: author.token,
			body: { sessionId, userId: editor.user.id, role: "editor" },
		});
		expect(invite.status).toBe(201);
		const seen = await api(s.url, "GET", `/session/${sessionId}`, { token: editor.token });
		expect(seen.body.description).toBe("# Two sum\nGiven \u0000 numbers…");
		expect(seen.text).not.toContain(HIDDEN_STDIN);

		const client = await connectClient(s.wsUrl, sessionId, editor.token);
		try {
			expect(readCode(client.doc)).toBe("def solve():\n    pass\n");
			expect(readLanguage(client.doc)).toBe("javascript");
			expect(readTests(client.doc).map(({ name, stdin, expected }) => ({ name, stdin, expected }))).toEqual([
				{ name: "small", stdin: "1 2\n", expected: "3\n" },
				{ name: "nul \u0000 name", stdin: "a\u0000b", expected: "ok" },
			]);
			const bytes = Buffer.from(Y.encodeStateAsUpdate(client.doc)).toString("latin1");
			expect(bytes).not.toContain(HIDDEN_STDIN);
			expect(bytes).not.toContain(HIDDEN_EXPECTED);
		} finally {
			client.destroy();
		}

		const ownerTests = await api(s.url, "GET", `/session/${sessionId}/tests`, { token: author.token });
		expect(ownerTests.body.filter((t: { hidden: boolean }) => t.hidden)).toMatchObject([
			{ name: "secret", stdin: HIDDEN_STDIN, expected: HIDDEN_EXPECTED, hidden: true },
		]);
		const editorTests = await api(s.url, "GET", `/session/${sessionId}/tests`, { token: editor.token });
		expect(editorTests.status).toBe(200);
		expect(editorTests.body).toHaveLength(2);
		expect(editorTests.text).not.toContain(HIDDEN_STDIN);

		// A session not started from a question has an empty description.
		expect((await createSession(s.url, author.token)).description).toBe("");
		// A question starts a server-seeded session: a client-made id cannot go with it.
		const both = await api(s.url, "POST", "/create-session", {
			token: author.token,
			body: { questionId: qid, id: "B".repeat(21) },
		});
		expect(both.status).toBe(400);
	});
});
