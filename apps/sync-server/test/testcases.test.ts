import type { ChildProcess } from "node:child_process";
import { addTest, readTests } from "@tandem/crdt-schema";
import { BullRunQueue } from "@tandem/run-queue";
import { nanoid } from "nanoid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { runRouteGroup } from "../src/runs/runRouteGroup.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { startRunner, stopRunner } from "./support/runnerProcess.ts";
import {
	api,
	createSession,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
	TEST_REDIS_URL,
} from "./support/testServer.ts";

const PREFIX = `tests-test-${nanoid(8)}`;
const SECRET_NAME = "SECRET-NAME-q7";
const SECRET_STDIN = "SECRET-STDIN-81";
const SECRET_EXPECTED = "SECRET-EXPECTED-5x";

let runner: ChildProcess;
let queue: BullRunQueue;
let s: RunningServer;
let owner: Awaited<ReturnType<typeof registerUser>>;
let editor: Awaited<ReturnType<typeof registerUser>>;
let viewer: Awaited<ReturnType<typeof registerUser>>;
let stranger: Awaited<ReturnType<typeof registerUser>>;

async function newSession(code: string, language = "python"): Promise<string> {
	const session = await createSession(s.url, owner.token, { language, code });
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
	return session.id;
}

const addTestVia = (token: string, sessionId: string, body: unknown) =>
	api(s.url, "POST", `/session/${sessionId}/tests`, { token, body });

beforeAll(async () => {
	runner = await startRunner(TEST_REDIS_URL, PREFIX);
	queue = new BullRunQueue({ redisUrl: TEST_REDIS_URL, prefix: PREFIX });
	s = await startTestServer({}, { routes: [runRouteGroup({ queue })] });
	owner = await registerUser(s.url, "towner");
	editor = await registerUser(s.url, "teditor");
	viewer = await registerUser(s.url, "tviewer");
	stranger = await registerUser(s.url, "tstranger");
}, 240_000);

afterAll(async () => {
	await s?.close();
	await queue?.close();
	await stopRunner(runner, TEST_REDIS_URL, PREFIX);
});

describe("test-case REST and the document", () => {
	it("a test added through REST reaches an open editor, and one added in the document shows in REST", async () => {
		const sessionId = await newSession("print(input())");
		const client = await connectClient(s.wsUrl, sessionId, owner.token);
		try {
			const created = await addTestVia(owner.token, sessionId, { name: "echo", stdin: "1", expected: "1" });
			expect(created.status).toBe(201);
			expect(created.body).toMatchObject({ name: "echo", stdin: "1", expected: "1", hidden: false });
			await eventually(() => readTests(client.doc).some((t) => t.id === created.body.id));

			addTest(client.doc, { id: "from-doc", name: "typed", stdin: "2", expected: "2" });
			await eventually(async () => {
				const list = await api(s.url, "GET", `/session/${sessionId}/tests`, { token: viewer.token });
				return list.body.some((t: { id: string }) => t.id === "from-doc");
			});

			const put = await api(s.url, "PUT", `/session/${sessionId}/tests/from-doc`, {
				token: owner.token,
				body: { expected: "two", index: 0 },
			});
			expect(put.status).toBe(200);
			expect(put.body).toMatchObject({ id: "from-doc", expected: "two" });
			await eventually(() => readTests(client.doc)[0]?.expected === "two");

			const del = await api(s.url, "DELETE", `/session/${sessionId}/tests/${created.body.id}`, {
				token: owner.token,
			});
			expect(del.status).toBe(204);
			await eventually(() => !readTests(client.doc).some((t) => t.id === created.body.id));
		} finally {
			client.destroy();
		}
	});

	it("answers 404 for unknown tests, 403 for viewers and strangers, 400 for bad bodies, 413 for huge stdin", async () => {
		const sessionId = await newSession("print(1)");
		expect(
			(await api(s.url, "PUT", `/session/${sessionId}/tests/nope`, { token: owner.token, body: { name: "x" } })).status,
		).toBe(404);
		expect((await api(s.url, "DELETE", `/session/${sessionId}/tests/nope`, { token: owner.token })).status).toBe(404);
		expect((await addTestVia(viewer.token, sessionId, { name: "v", stdin: "", expected: "" })).status).toBe(403);
		expect((await api(s.url, "GET", `/session/${sessionId}/tests`, { token: stranger.token })).status).toBe(403);
		expect((await api(s.url, "GET", `/session/${"B".repeat(24)}/tests`, { token: owner.token })).status).toBe(404);
		const bad = await addTestVia(owner.token, sessionId, { name: 5 });
		expect(bad.status).toBe(400);
		expect(bad.body.error.message).toMatch(/name/);
		const huge = await addTestVia(owner.token, sessionId, {
			name: "h",
			stdin: "x".repeat(1024 * 1024 + 1),
			expected: "",
		});
		expect(huge.status).toBe(413);
	});
});

describe("POST /session/{id}/run-tests", () => {
	it("judges pass, wrong answer (with a diff), time-out and runtime error in one run, with the whitespace rule", async () => {
		const code = [
			"s = input()",
			"if s == 'loop':",
			"    while True: pass",
			"if s == 'crash':",
			"    raise SystemExit(2)",
			"print(int(s) * 2, '  ')",
			"print()",
		].join("\n");
		const sessionId = await newSession(code);
		for (const t of [
			{ name: "doubles", stdin: "2", expected: "4" },
			{ name: "wrong", stdin: "3", expected: "7" },
			{ name: "slow", stdin: "loop", expected: "" },
			{ name: "crash", stdin: "crash", expected: "" },
		]) {
			expect((await addTestVia(owner.token, sessionId, t)).status).toBe(201);
		}
		const res = await api(s.url, "POST", `/session/${sessionId}/run-tests`, { token: editor.token, body: {} });
		expect(res.status).toBe(200);
		expect(res.body.total).toBe(4);
		expect(res.body.passed).toBe(1);
		expect(res.body.results.map((r: { status: string }) => r.status)).toEqual([
			"passed",
			"wrong_answer",
			"timeout",
			"runtime_error",
		]);
		const wrong = res.body.results[1];
		expect(wrong).toMatchObject({ name: "wrong", passed: false, expected: "7" });
		expect(wrong.output).toMatch(/^6/);
		expect(wrong.diff).toContain("- 7");
		for (const r of res.body.results) {
			for (const key of ["testId", "name", "passed", "status", "output", "expected", "error", "executionTime"]) {
				expect(r).toHaveProperty(key);
			}
		}
	}, 60_000);

	it("fails every test with compile_error when the code does not compile", async () => {
		const sessionId = await newSession("int main( {", "c");
		await addTestVia(owner.token, sessionId, { name: "a", stdin: "", expected: "" });
		await addTestVia(owner.token, sessionId, { name: "b", stdin: "", expected: "" });
		const res = await api(s.url, "POST", `/session/${sessionId}/run-tests`, { token: owner.token, body: {} });
		expect(res.status).toBe(200);
		expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(["compile_error", "compile_error"]);
		expect(res.body.results[0].error).toMatch(/error/i);
	}, 60_000);

	it("runs given code instead of the document's and refuses an unknown language", async () => {
		const sessionId = await newSession("print('doc')");
		await addTestVia(owner.token, sessionId, { name: "a", stdin: "", expected: "given" });
		const res = await api(s.url, "POST", `/session/${sessionId}/run-tests`, {
			token: owner.token,
			body: { code: "print('given')" },
		});
		expect(res.body.passed).toBe(1);
		const bad = await api(s.url, "POST", `/session/${sessionId}/run-tests`, {
			token: owner.token,
			body: { language: "cobol" },
		});
		expect(bad.status).toBe(400);
	}, 60_000);

	it("RELIABILITY 41 and 42: a bash solution passes a test whose stdin lacks a final newline; a Java `public class Solution` runs", async () => {
		const bashSession = await newSession("s=0\nwhile read n; do s=$((s + n)); done\necho $s\n", "bash");
		await addTestVia(owner.token, bashSession, { name: "no final newline", stdin: "1\n2", expected: "3" });
		const bash = await api(s.url, "POST", `/session/${bashSession}/run-tests`, { token: owner.token, body: {} });
		expect(bash.status).toBe(200);
		expect(bash.body.results.map((r: { status: string }) => r.status)).toEqual(["passed"]);

		const java =
			"import java.util.*;\npublic class Solution {\n  public static void main(String[] a) {\n    Scanner in = new Scanner(System.in);\n    System.out.println(in.nextInt() + in.nextInt());\n  }\n}\n";
		const javaSession = await newSession(java, "java");
		await addTestVia(owner.token, javaSession, { name: "sum", stdin: "20 22", expected: "42" });
		const ran = await api(s.url, "POST", `/session/${javaSession}/run-tests`, { token: owner.token, body: {} });
		expect(ran.status).toBe(200);
		expect(ran.body.results.map((r: { status: string }) => r.status)).toEqual(["passed"]);
	}, 120_000);
});

describe("hidden tests", () => {
	let sessionId: string;
	let hiddenId: string;
	const clients: CollabClient[] = [];

	afterAll(() => {
		for (const c of clients) c.destroy();
	});

	it("only the owner adds and sees hidden tests; they never enter the document", async () => {
		sessionId = await newSession("print(input())");
		expect((await addTestVia(owner.token, sessionId, { name: "v", stdin: "v", expected: "v" })).status).toBe(201);
		const hidden = await addTestVia(owner.token, sessionId, {
			name: SECRET_NAME,
			stdin: SECRET_STDIN,
			expected: SECRET_EXPECTED,
			hidden: true,
		});
		expect(hidden.status).toBe(201);
		expect(hidden.body).toMatchObject({ name: SECRET_NAME, hidden: true });
		hiddenId = hidden.body.id;
		const byEditor = await addTestVia(editor.token, sessionId, { name: "h", stdin: "", expected: "", hidden: true });
		expect(byEditor.status).toBe(403);

		const ownerList = await api(s.url, "GET", `/session/${sessionId}/tests`, { token: owner.token });
		expect(ownerList.body.map((t: { hidden: boolean }) => t.hidden)).toEqual([false, true]);
		for (const u of [editor, viewer]) {
			const list = await api(s.url, "GET", `/session/${sessionId}/tests`, { token: u.token });
			expect(list.status).toBe(200);
			expect(list.body).toHaveLength(1);
			for (const secret of [SECRET_NAME, SECRET_STDIN, SECRET_EXPECTED, hiddenId])
				expect(list.text).not.toContain(secret);
			const put = await api(s.url, "PUT", `/session/${sessionId}/tests/${hiddenId}`, {
				token: u.token,
				body: { name: "x" },
			});
			expect([403, 404]).toContain(put.status);
			expect(put.text).not.toContain(SECRET_NAME);
		}

		const viewerClient = await connectClient(s.wsUrl, sessionId, viewer.token);
		clients.push(viewerClient);
		const state = Buffer.from(Y.encodeStateAsUpdate(viewerClient.doc)).toString("latin1");
		for (const secret of [SECRET_NAME, SECRET_STDIN, SECRET_EXPECTED, hiddenId]) expect(state).not.toContain(secret);
	});

	it("run results and live messages show a non-owner only 'hidden test N' and its verdict", async () => {
		const ownerClient = await connectClient(s.wsUrl, sessionId, owner.token);
		const editorClient = await connectClient(s.wsUrl, sessionId, editor.token);
		const viewerClient = await connectClient(s.wsUrl, sessionId, viewer.token);
		clients.push(ownerClient, editorClient, viewerClient);

		const byEditor = await api(s.url, "POST", `/session/${sessionId}/run-tests`, { token: editor.token, body: {} });
		expect(byEditor.status).toBe(200);
		expect(byEditor.body.total).toBe(2);
		expect(byEditor.body.results[1]).toEqual({
			testId: "hidden-1",
			name: "hidden test 1",
			passed: false,
			status: "not_passed",
			hidden: true,
		});
		for (const secret of [SECRET_NAME, SECRET_STDIN, SECRET_EXPECTED, hiddenId]) {
			expect(byEditor.text).not.toContain(secret);
		}

		const doneOf = (c: CollabClient) =>
			c.stateless
				.map((p) => JSON.parse(p))
				.find((m) => m.type === "tests" && m.runId === byEditor.body.runId && m.state === "done");
		await eventually(() => [ownerClient, editorClient, viewerClient].every((c) => doneOf(c)));
		for (const c of [editorClient, viewerClient]) {
			const all = c.stateless.join("\n");
			for (const secret of [SECRET_NAME, SECRET_STDIN, SECRET_EXPECTED, hiddenId]) expect(all).not.toContain(secret);
			expect(doneOf(c).report.results[1].name).toBe("hidden test 1");
		}
		const ownerDone = doneOf(ownerClient);
		expect(ownerDone.report.results[1]).toMatchObject({ name: SECRET_NAME, expected: SECRET_EXPECTED });
		expect(ownerDone.report.results[1].output).toContain(SECRET_STDIN);

		const byOwner = await api(s.url, "POST", `/session/${sessionId}/run-tests`, { token: owner.token, body: {} });
		expect(byOwner.body.results[1]).toMatchObject({ testId: hiddenId, name: SECRET_NAME, hidden: true });
		const progress = editorClient.stateless
			.map((p) => JSON.parse(p))
			.filter((m) => m.type === "tests" && m.state === "progress");
		expect(progress.length).toBeGreaterThan(0);
		expect(progress[0]).toMatchObject({ total: 2 });
	}, 60_000);

	it("the owner can edit and delete a hidden test", async () => {
		const put = await api(s.url, "PUT", `/session/${sessionId}/tests/${hiddenId}`, {
			token: owner.token,
			body: { expected: SECRET_STDIN },
		});
		expect(put.status).toBe(200);
		expect(put.body).toMatchObject({ expected: SECRET_STDIN, hidden: true });
		const del = await api(s.url, "DELETE", `/session/${sessionId}/tests/${hiddenId}`, { token: owner.token });
		expect(del.status).toBe(204);
		const list = await api(s.url, "GET", `/session/${sessionId}/tests`, { token: owner.token });
		expect(list.body).toHaveLength(1);
	});
});
