import type { ChildProcess } from "node:child_process";
import { readStdin, setStdin } from "@tandem/crdt-schema";
import { BullRunQueue } from "@tandem/run-queue";
import { nanoid } from "nanoid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

// A real runner process (the scale-out role) pulls from BullMQ under a prefix of this file's own.
const PREFIX = `runs-test-${nanoid(8)}`;

let runner: ChildProcess;
let queue: BullRunQueue;
let s: RunningServer;
let noQueue: RunningServer;
let owner: Awaited<ReturnType<typeof registerUser>>;
let viewer: Awaited<ReturnType<typeof registerUser>>;
let editor: Awaited<ReturnType<typeof registerUser>>;
let stranger: Awaited<ReturnType<typeof registerUser>>;
let sessionId: string;

beforeAll(async () => {
	runner = await startRunner(TEST_REDIS_URL, PREFIX);
	queue = new BullRunQueue({ redisUrl: TEST_REDIS_URL, prefix: PREFIX });
	s = await startTestServer({}, { routes: [runRouteGroup({ queue })] });
	noQueue = await startTestServer(
		{},
		{ routes: [runRouteGroup({ queue: null, unavailableReason: "no runner here" })] },
	);
	owner = await registerUser(s.url, "runowner");
	viewer = await registerUser(s.url, "runviewer");
	editor = await registerUser(s.url, "runeditor");
	stranger = await registerUser(s.url, "runstranger");
	const session = await createSession(s.url, owner.token, {
		language: "python",
		code: "import sys\nprint('doc says', sys.stdin.read().strip())\n",
	});
	sessionId = session.id;
	const invite = await api(s.url, "POST", "/invite-user", {
		token: owner.token,
		body: { sessionId, userId: viewer.user.id, role: "viewer" },
	});
	expect(invite.status).toBe(201);
	const asEditor = await api(s.url, "POST", "/invite-user", {
		token: owner.token,
		body: { sessionId, userId: editor.user.id, role: "editor" },
	});
	expect(asEditor.status).toBe(201);
}, 240_000);

afterAll(async () => {
	await s?.close();
	await noQueue?.close();
	await queue?.close();
	await stopRunner(runner, TEST_REDIS_URL, PREFIX);
});

const exec = (token: string, body: unknown) => api(s.url, "POST", "/execute-code", { token, body });

describe("POST /execute-code", () => {
	it("runs the session document's code with stdin and answers the ExecutionResult", async () => {
		const res = await exec(owner.token, { sessionId, stdin: "hello" });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({
			sessionId,
			output: "doc says hello\n",
			error: "",
			status: "ok",
			exitCode: 0,
			language: "python",
		});
		expect(typeof res.body.id).toBe("string");
		expect(typeof res.body.executionTime).toBe("number");
		expect(typeof res.body.createdAt).toBe("string");
	});

	it("runs given code and language instead of the document's", async () => {
		const res = await exec(owner.token, { sessionId, language: "javascript", code: "console.log(6*7)" });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ output: "42\n", status: "ok", language: "javascript" });
	});

	it("answers a compile error as a 200 result with compile_error", async () => {
		const res = await exec(owner.token, { sessionId, language: "c", code: "int main( { return 0; }" });
		expect(res.status).toBe(200);
		expect(res.body.status).toBe("compile_error");
		expect(res.body.error).toMatch(/error/i);
	});

	it("answers a crash as a 200 result with runtime_error and the exit code", async () => {
		const res = await exec(owner.token, { sessionId, code: "import sys\nsys.exit(3)" });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ status: "runtime_error", exitCode: 3 });
	});

	it("CS10: a run without stdin reads the document's shared stdin; the result shows and stores the stdin it used", async () => {
		const client = await connectClient(s.wsUrl, sessionId, owner.token);
		try {
			setStdin(client.doc, "from the document");
			await eventually(() => {
				const live = s.server.hocuspocus.documents.get(sessionId);
				return live !== undefined && readStdin(live) === "from the document";
			});
			const res = await exec(editor.token, { sessionId });
			expect(res.status).toBe(200);
			expect(res.body.output).toBe("doc says from the document\n");
			expect(res.body.stdin).toBe("from the document");
			const own = await exec(editor.token, { sessionId, stdin: "typed" });
			expect(own.body.stdin).toBe("typed");
			await eventually(async () => {
				const runs = await api(s.url, "GET", `/session/${sessionId}/runs`, { token: viewer.token });
				const stored = await api(s.url, "GET", `/submissions/${res.body.id}`, { token: viewer.token });
				return runs.status === 200 && stored.body?.result?.stdin === "from the document";
			});
		} finally {
			setStdin(client.doc, "");
			client.destroy();
		}
	});

	it("refuses a viewer's run with 403 and lets an editor run", async () => {
		const refused = await exec(viewer.token, { sessionId, code: "print('viewer')" });
		expect(refused.status).toBe(403);
		const res = await exec(editor.token, { sessionId, code: "print('editor')" });
		expect(res.status).toBe(200);
		expect(res.body.output).toBe("editor\n");
	});

	it("refuses an unknown language with 400", async () => {
		const res = await exec(owner.token, { sessionId, language: "cobol", code: "x" });
		expect(res.status).toBe(400);
		expect(res.body.error.code).toBe("invalid_input");
		expect(res.body.error.message).toMatch(/Unknown language/);
	});

	it("refuses a stranger with 403, a missing session with 404, no token with 401", async () => {
		expect((await exec(stranger.token, { sessionId })).status).toBe(403);
		const missing = await exec(owner.token, { sessionId: "A".repeat(24) });
		expect(missing.status).toBe(404);
		expect((await api(s.url, "POST", "/execute-code", { body: { sessionId } })).status).toBe(401);
	});

	it("refuses malformed JSON and a missing sessionId with 400", async () => {
		const bad = await api(s.url, "POST", "/execute-code", { token: owner.token, body: '{"sessionId": ' });
		expect(bad.status).toBe(400);
		expect(bad.body.error.code).toBe("invalid_json");
		const missing = await exec(owner.token, { code: "print(1)" });
		expect(missing.status).toBe(400);
		expect(missing.body.error.message).toMatch(/sessionId/);
	});

	it("refuses too-large code and stdin with 413 naming the limit", async () => {
		const bigCode = await exec(owner.token, { sessionId, code: "#".repeat(300 * 1024) });
		expect(bigCode.status).toBe(413);
		expect(bigCode.body.error.message).toMatch(/code is \d+ characters; the limit is 262144 characters/);
		// The limit is the document's, in characters: code a session holds (here 200 Ki "é", 400 KiB of UTF-8) runs.
		const wide = await exec(owner.token, {
			sessionId,
			language: "python",
			code: `# ${"é".repeat(200 * 1024)}\nprint(1)\n`,
		});
		expect(wide.status, wide.text).toBe(200);
		const bigStdin = await exec(owner.token, { sessionId, stdin: "x".repeat(1024 * 1024 + 1) });
		expect(bigStdin.status).toBe(413);
		expect(bigStdin.body.error.message).toMatch(/stdin/);
	});

	it("answers 503 with the reason when no runner is available", async () => {
		const user = await registerUser(noQueue.url, "noq");
		const session = await createSession(noQueue.url, user.token);
		const res = await api(noQueue.url, "POST", "/execute-code", { token: user.token, body: { sessionId: session.id } });
		expect(res.status).toBe(503);
		expect(res.body.error.message).toBe("no runner here");
		const langs = await api(noQueue.url, "GET", "/languages");
		expect(langs.status).toBe(503);
		expect(langs.body.error.message).toBe("no runner here");
	});
});

describe("POST /submit-code and GET /submissions/{id}", () => {
	it("answers 202 with a submissionId, and polling reaches done with the result", async () => {
		const res = await api(s.url, "POST", "/submit-code", {
			token: owner.token,
			body: { sessionId, code: "print(input()[::-1])", stdin: "abc" },
		});
		expect(res.status).toBe(202);
		const id = res.body.submissionId as string;
		expect(typeof id).toBe("string");
		let last: any;
		await eventually(async () => {
			last = await api(s.url, "GET", `/submissions/${id}`, { token: owner.token });
			expect(last.status).toBe(200);
			expect(["queued", "running", "done"]).toContain(last.body.status);
			return last.body.status === "done";
		}, 100);
		expect(last.body.result).toMatchObject({ id, sessionId, output: "cba\n", status: "ok" });
		const strangerView = await api(s.url, "GET", `/submissions/${id}`, { token: stranger.token });
		expect(strangerView.status).toBe(403);
		const unknown = await api(s.url, "GET", "/submissions/nope", { token: owner.token });
		expect(unknown.status).toBe(404);
	});
});

describe("GET /session/{id}/runs", () => {
	it("lists the session's stored runs newest first, once each, to participants only", async () => {
		const first = await exec(owner.token, { sessionId, code: "print('first')" });
		const second = await exec(editor.token, { sessionId, code: "print('second')" });
		const res = await api(s.url, "GET", `/session/${sessionId}/runs`, { token: viewer.token });
		expect(res.status).toBe(200);
		const ids = res.body.runs.map((r: { id: string }) => r.id);
		expect(ids.indexOf(second.body.id)).toBeLessThan(ids.indexOf(first.body.id));
		expect(new Set(ids).size).toBe(ids.length);
		expect(res.body.runs[ids.indexOf(second.body.id)].submittedBy).toEqual({
			id: editor.user.id,
			name: editor.user.username,
		});
		expect((await api(s.url, "GET", `/session/${sessionId}/runs`, { token: stranger.token })).status).toBe(403);
	});
});

describe("GET /languages", () => {
	it("lists languages as {id, name, version}", async () => {
		const res = await api(s.url, "GET", "/languages");
		expect(res.status).toBe(200);
		expect(res.body).toEqual(expect.arrayContaining([expect.objectContaining({ id: "python", name: "Python" })]));
		for (const l of res.body) expect(Object.keys(l).sort()).toEqual(["id", "name", "version"]);
	});
});

describe("live runs", () => {
	let a: CollabClient;
	let b: CollabClient;
	let other: CollabClient;

	afterAll(() => {
		a?.destroy();
		b?.destroy();
		other?.destroy();
	});

	it("shows a run started by one client to another client of the session, and not to another session", async () => {
		a = await connectClient(s.wsUrl, sessionId, owner.token);
		b = await connectClient(s.wsUrl, sessionId, viewer.token);
		const otherSession = await createSession(s.url, stranger.token);
		other = await connectClient(s.wsUrl, otherSession.id, stranger.token);
		const res = await exec(owner.token, { sessionId, code: "print('live')" });
		expect(res.status).toBe(200);
		const runMessages = (c: CollabClient) =>
			c.stateless.map((p) => JSON.parse(p)).filter((m) => m.type === "run" && m.submissionId === res.body.id);
		await eventually(() => runMessages(b).some((m) => m.state === "done"));
		const done = runMessages(b).find((m) => m.state === "done");
		expect(done.by).toEqual({ id: owner.user.id, name: owner.user.username });
		expect(done.result.output).toBe("live\n");
		expect(runMessages(b).filter((m) => m.state === "done")).toHaveLength(1);
		await eventually(() => runMessages(a).some((m) => m.state === "done"));
		expect(other.stateless.filter((p) => p.includes(res.body.id))).toEqual([]);
	});
});
