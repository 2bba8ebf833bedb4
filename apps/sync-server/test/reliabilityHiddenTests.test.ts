import type { ChildProcess } from "node:child_process";
import { BullRunQueue } from "@tandem/run-queue";
import { nanoid } from "nanoid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRouteGroup } from "../src/runs/runRouteGroup.ts";
import { type CollabClient, connectClient } from "./support/collabClient.ts";
import { startRunner, stopRunner } from "./support/runnerProcess.ts";
import {
	type ApiResponse,
	api,
	createSession,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
	TEST_REDIS_URL,
} from "./support/testServer.ts";

// RELIABILITY 45 through the paths a participant takes, with the real runner: a program that
// echoes its stdin to stdout and stderr, run against a session whose only test is hidden.
const PREFIX = `hidden-leak-${nanoid(8)}`;
const SECRET_NAME = "SECRET-NAME-k3";
const SECRET_STDIN = "SECRET-STDIN-9z";
const SECRET_EXPECTED = "SECRET-EXPECTED-w4";
const SECRETS = [SECRET_NAME, SECRET_STDIN, SECRET_EXPECTED];
const ECHO = "import sys\nd = sys.stdin.read()\nprint(d)\nprint(d, file=sys.stderr)\n";

let runner: ChildProcess;
let queue: BullRunQueue;
let s: RunningServer;
type User = Awaited<ReturnType<typeof registerUser>>;
let owner: User;
let editor: User;
let viewer: User;
let sessionId: string;
let hiddenId: string;
const clients: CollabClient[] = [];

function expectNoSecret(what: string, text: string): void {
	for (const secret of [...SECRETS, hiddenId]) {
		expect(text.includes(secret), `${what} carries ${secret}`).toBe(false);
	}
}

beforeAll(async () => {
	runner = await startRunner(TEST_REDIS_URL, PREFIX);
	queue = new BullRunQueue({ redisUrl: TEST_REDIS_URL, prefix: PREFIX });
	s = await startTestServer({}, { routes: [runRouteGroup({ queue })] });
	owner = await registerUser(s.url, "hlowner");
	editor = await registerUser(s.url, "hleditor");
	viewer = await registerUser(s.url, "hlviewer");
	sessionId = (await createSession(s.url, owner.token, { language: "python", code: ECHO })).id;
	for (const [u, role] of [
		[editor, "editor"],
		[viewer, "viewer"],
	] as const) {
		const res = await api(s.url, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId, userId: u.user.id, role },
		});
		expect(res.status).toBe(201);
	}
	const hidden = await api(s.url, "POST", `/session/${sessionId}/tests`, {
		token: owner.token,
		body: { name: SECRET_NAME, stdin: SECRET_STDIN, expected: SECRET_EXPECTED, hidden: true },
	});
	expect(hidden.status).toBe(201);
	hiddenId = hidden.body.id;
}, 180_000);

afterAll(async () => {
	for (const c of clients) c.destroy();
	await s?.close();
	await queue?.close();
	await stopRunner(runner, TEST_REDIS_URL, PREFIX);
});

const runTests = (token: string): Promise<ApiResponse> =>
	api(s.url, "POST", `/session/${sessionId}/run-tests`, { token, body: {} });

describe("RELIABILITY 45: hidden tests never leak", () => {
	it("RELIABILITY 45: an editor and a viewer running an echo program get only 'hidden test 1' and passed or not, by every REST route and broadcast", async () => {
		const ownerClient = await connectClient(s.wsUrl, sessionId, owner.token);
		const editorClient = await connectClient(s.wsUrl, sessionId, editor.token);
		const viewerClient = await connectClient(s.wsUrl, sessionId, viewer.token);
		clients.push(ownerClient, editorClient, viewerClient);

		const runIds: string[] = [];
		for (const [who, u] of [
			["editor", editor],
			["viewer", viewer],
		] as const) {
			const res = await runTests(u.token);
			expectNoSecret(`${who}'s run-tests answer`, res.text);
			if (res.status !== 200) {
				// A viewer may be refused a run (CONTRACT "Interviews"); then there is nothing more to look at.
				expect(res.status).toBe(403);
				continue;
			}
			expect(res.body.results).toEqual([
				{ testId: "hidden-1", name: "hidden test 1", passed: false, status: "not_passed", hidden: true },
			]);
			runIds.push(res.body.runId);
		}
		expect(runIds.length).toBeGreaterThan(0);
		const byOwner = await runTests(owner.token);
		expect(byOwner.status).toBe(200);
		expect(byOwner.body.results[0]).toMatchObject({ testId: hiddenId, name: SECRET_NAME, hidden: true });
		expect(byOwner.body.results[0].output).toContain(SECRET_STDIN);
		expect(byOwner.body.results[0].error).toContain(SECRET_STDIN);
		runIds.push(byOwner.body.runId);

		// GET /submissions/{runId} of every run (the owner's included), and the session's run list.
		for (const runId of runIds) {
			for (const [who, u] of [
				["editor", editor],
				["viewer", viewer],
			] as const) {
				const got = await api(s.url, "GET", `/submissions/${runId}`, { token: u.token });
				expect(got.status).toBe(200);
				expectNoSecret(`GET /submissions/${runId} for the ${who}`, got.text);
				expect(got.body).toMatchObject({ status: "done", report: { total: 1 } });
				expect(got.body.report.results[0]).toEqual({
					testId: "hidden-1",
					name: "hidden test 1",
					passed: false,
					status: "not_passed",
					hidden: true,
				});
			}
			const forOwner = await api(s.url, "GET", `/submissions/${runId}`, { token: owner.token });
			expect(forOwner.body.report.results[0]).toMatchObject({ name: SECRET_NAME, expected: SECRET_EXPECTED });
			expect(forOwner.body.report.results[0].output).toContain(SECRET_STDIN);
		}
		for (const u of [editor, viewer]) {
			const list = await api(s.url, "GET", `/session/${sessionId}/runs`, { token: u.token });
			expect(list.status).toBe(200);
			expectNoSecret("GET /session/{id}/runs", list.text);
			const tests = await api(s.url, "GET", `/session/${sessionId}/tests`, { token: u.token });
			expectNoSecret("GET /session/{id}/tests", tests.text);
		}

		// Live messages: verdicts of every run reach everyone; only the owner's carry the hidden test.
		const done = (c: CollabClient, runId: string) =>
			c.stateless.map((p) => JSON.parse(p)).find((m) => m.runId === runId && m.state === "done");
		await eventually(() => runIds.every((id) => [ownerClient, editorClient, viewerClient].every((c) => done(c, id))));
		for (const [who, c] of [
			["editor", editorClient],
			["viewer", viewerClient],
		] as const) {
			expectNoSecret(`the ${who}'s live messages`, c.stateless.join("\n"));
			// No progress through hidden tests (their timing is the program's to choose).
			const progress = c.stateless.map((p) => JSON.parse(p)).filter((m) => m.state === "progress");
			expect(progress).toEqual([]);
		}
		expect(done(ownerClient, byOwner.body.runId).report.results[0].output).toContain(SECRET_STDIN);
		expect(ownerClient.stateless.some((p) => JSON.parse(p).state === "progress")).toBe(true);
	}, 120_000);

	it("RELIABILITY 45: a program that crashes or sleeps on the hidden input shows only 'not passed', with no time, exit code or kind of failure", async () => {
		const code = "import sys, time\nd = sys.stdin.read()\nif 'STDIN' in d:\n    sys.exit(7)\nprint(d)\n";
		const res = await api(s.url, "POST", `/session/${sessionId}/run-tests`, {
			token: editor.token,
			body: { language: "python", code },
		});
		expect(res.status).toBe(200);
		expectNoSecret("the run-tests answer", res.text);
		expect(res.body.results[0]).toEqual({
			testId: "hidden-1",
			name: "hidden test 1",
			passed: false,
			status: "not_passed",
			hidden: true,
		});
		const owners = await api(s.url, "GET", `/submissions/${res.body.runId}`, { token: owner.token });
		expect(owners.body.report.results[0]).toMatchObject({ status: "runtime_error", hidden: true });
	}, 60_000);
});
