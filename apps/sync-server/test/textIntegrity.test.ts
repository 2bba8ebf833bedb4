import type { ChildProcess } from "node:child_process";
import { BullRunQueue } from "@tandem/run-queue";
import { nanoid } from "nanoid";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findExecutionResult } from "../src/runs/runRepository.ts";
import { runRouteGroup } from "../src/runs/runRouteGroup.ts";
import { findSession } from "../src/sessions/sessionRepository.ts";
import { findHiddenTest } from "../src/testcases/hiddenTestRepository.ts";
import { findTestRun } from "../src/testcases/testRunRepository.ts";
import { startRunner, stopRunner } from "./support/runnerProcess.ts";
import {
	api,
	createSession,
	eventually,
	type RunningServer,
	registerUser,
	startTestServer,
	TEST_DATABASE_URL,
	TEST_REDIS_URL,
} from "./support/testServer.ts";

// RELIABILITY 37 (and 38 for code): any string survives every place text is stored,
// compared, cut, sent or shown, through REST, on PGlite and on real Postgres alike.

/** Text that used to break a store: NUL, the escape character itself, CR, CRLF, multi-byte. */
const HARD = "n\u0000u\u0010l\u00100 \r cr\r\nπ 😀 日本";

const PREFIX = `text-test-${nanoid(8)}`;
let runner: ChildProcess;
let queue: BullRunQueue;

beforeAll(async () => {
	runner = await startRunner(TEST_REDIS_URL, PREFIX);
	queue = new BullRunQueue({ redisUrl: TEST_REDIS_URL, prefix: PREFIX });
}, 180_000);

afterAll(async () => {
	await queue?.close();
	await stopRunner(runner, TEST_REDIS_URL, PREFIX);
});

const schema = `text_${nanoid(8)
	.toLowerCase()
	.replace(/[^a-z0-9]/g, "x")}`;

for (const [kind, env] of [
	["PGlite", {}],
	["Postgres", { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema }],
] as const) {
	describe(`RELIABILITY 37: text through REST on ${kind}`, () => {
		let s: RunningServer;
		let owner: Awaited<ReturnType<typeof registerUser>>;

		beforeAll(async () => {
			s = await startTestServer(env, { routes: [runRouteGroup({ queue })] });
			owner = await registerUser(s.url, "textowner");
		}, 180_000);

		afterAll(async () => {
			await s?.close();
			if (kind === "Postgres") {
				const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
				await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
				await admin.end();
			}
		});

		it("RELIABILITY 37: a title and code holding NUL, CR and multi-byte text are created and read back exactly", async () => {
			const code = `print("x")\n# ${HARD}\n`;
			const res = await api(s.url, "POST", "/create-session", { token: owner.token, body: { title: HARD, code } });
			expect(res.status).toBe(201);
			// Code has one line-ending convention (SPEC CS7); the title keeps every character.
			const codeLf = code.replace(/\r\n?/g, "\n");
			expect(res.body).toMatchObject({ title: HARD, code: codeLf });
			const read = await api(s.url, "GET", `/session/${res.body.id}`, { token: owner.token });
			expect(read.status).toBe(200);
			expect(read.body).toMatchObject({ title: HARD, code: codeLf });
			const list = await api(s.url, "GET", "/sessions", { token: owner.token });
			expect(list.body.sessions.find((x: { id: string }) => x.id === res.body.id)?.title).toBe(HARD);
			const row = await findSession(s.server.ctx.db, res.body.id);
			expect(row).toMatchObject({ title: HARD, code: codeLf });
		});

		it("RELIABILITY 37: a NUL in an id, a path or a login answers 4xx with words on every route, never a 500", async () => {
			const created = await api(s.url, "POST", "/create-session", { token: owner.token, body: { code: "x\n" } });
			const sid = created.body.id as string;
			const nul = "a%00b";
			const probes: [string, string, Record<string, unknown> | undefined, string | undefined][] = [
				["POST", "/login", { username: "a\u0000b", password: "whatever-password" }, undefined],
				["POST", "/login", { email: "a\u0000b@example.test", password: "whatever-password" }, undefined],
				["GET", `/submissions/${nul}`, undefined, owner.token],
				["GET", `/questions/${nul}`, undefined, owner.token],
				["PUT", `/session/${sid}/tests/${nul}`, { name: "n" }, owner.token],
				["DELETE", `/session/${sid}/tests/${nul}`, undefined, owner.token],
				["DELETE", `/session/${sid}/links/${nul}`, undefined, owner.token],
				["PUT", `/session/${sid}/participants/${nul}`, { role: "viewer" }, owner.token],
				["DELETE", `/session/${sid}/participants/${nul}`, undefined, owner.token],
				["POST", "/invite-user", { sessionId: sid, username: "a\u0000" }, owner.token],
				["POST", "/invite-user", { sessionId: sid, userId: "a\u0000" }, owner.token],
				["POST", "/create-session", { questionId: "a\u0000" }, owner.token],
			];
			for (const [method, path, body, token] of probes) {
				const res = await api(s.url, method, path, { ...(token ? { token } : {}), ...(body ? { body } : {}) });
				expect(res.status, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`).toBeGreaterThanOrEqual(400);
				expect(res.status, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`).toBeLessThan(500);
				expect(res.body?.error?.message, `${method} ${path}`).toMatch(/\w+ \w+/);
			}
		});

		it("RELIABILITY 38: CRLF and lone-CR code from REST is stored with LF line endings (SPEC CS7)", async () => {
			const session = await createSession(s.url, owner.token, { code: "a = 1\r\nb = 2\r\nc = 3\rd = 4\r\n" });
			expect(session.code).toBe("a = 1\nb = 2\nc = 3\nd = 4\n");
		});

		it("RELIABILITY 37: an unpaired surrogate is refused with a 400 naming the field, never stored altered", async () => {
			const body = '{"title":"a\\ud800b","code":""}';
			const res = await api(s.url, "POST", "/create-session", { token: owner.token, body });
			expect(res.status).toBe(400);
			expect(res.body.error.message).toMatch(/^title: .*unpaired surrogate/);
			const session = await createSession(s.url, owner.token);
			const test = await api(s.url, "POST", `/session/${session.id}/tests`, {
				token: owner.token,
				body: '{"name":"t","stdin":"","expected":"\\udc00"}',
			});
			expect(test.status).toBe(400);
			expect(test.body.error.message).toMatch(/^expected: /);
		});

		it("RELIABILITY 37: usernames refuse control characters with a 400; NUL in a login or invite is a miss or a 400, never a 500", async () => {
			const reg = await api(s.url, "POST", "/register", {
				body: { username: "nul\u0000name", email: "nul@example.test", password: "a long enough pass phrase" },
			});
			expect(reg.status).toBe(400);
			expect(reg.body.error.message).toMatch(/username/);
			for (const login of [{ username: "a\u0000b" }, { email: "a\u0000b@example.test" }]) {
				const res = await api(s.url, "POST", "/login", { body: { ...login, password: "whatever it is" } });
				// A case-blind lookup compares the raw text: Postgres refuses U+0000 there, which answers 400.
				expect([400, 401]).toContain(res.status);
			}
			const session = await createSession(s.url, owner.token);
			const invite = await api(s.url, "POST", "/invite-user", {
				token: owner.token,
				body: { sessionId: session.id, username: "no\u0000body" },
			});
			expect([400, 404]).toContain(invite.status);
		});

		it("RELIABILITY 37: visible and hidden tests keep NUL and CR in name, stdin and expected exactly", async () => {
			const session = await createSession(s.url, owner.token);
			const tests = `/session/${session.id}/tests`;
			const visible = await api(s.url, "POST", tests, {
				token: owner.token,
				body: { name: HARD, stdin: HARD, expected: HARD },
			});
			expect(visible.status).toBe(201);
			const hidden = await api(s.url, "POST", tests, {
				token: owner.token,
				body: { name: HARD, stdin: HARD, expected: HARD, hidden: true },
			});
			expect(hidden.status).toBe(201);
			expect(hidden.body).toMatchObject({ name: HARD, stdin: HARD, expected: HARD, hidden: true });
			const patched = await api(s.url, "PUT", `${tests}/${hidden.body.id}`, {
				token: owner.token,
				body: { expected: `${HARD}\u0000` },
			});
			expect(patched.status).toBe(200);
			expect(patched.body.expected).toBe(`${HARD}\u0000`);
			const listed = await api(s.url, "GET", tests, { token: owner.token });
			expect(listed.status).toBe(200);
			expect(listed.body).toEqual([
				{ id: visible.body.id, name: HARD, stdin: HARD, expected: HARD, hidden: false },
				{ id: hidden.body.id, name: HARD, stdin: HARD, expected: `${HARD}\u0000`, hidden: true },
			]);
			expect(await findHiddenTest(s.server.ctx.db, session.id, hidden.body.id)).toMatchObject({
				name: HARD,
				stdin: HARD,
				expected: `${HARD}\u0000`,
			});
			// Hiding the visible one moves it to the table: still exact.
			const hide = await api(s.url, "PUT", `${tests}/${visible.body.id}`, {
				token: owner.token,
				body: { hidden: true },
			});
			expect(hide.status).toBe(200);
			expect(hide.body).toMatchObject({ name: HARD, stdin: HARD, expected: HARD, hidden: true });
		});

		it("RELIABILITY 37: a program printing a\\0b and CRs gets its output exactly, and the stored run is exact", async () => {
			const session = await createSession(s.url, owner.token, { language: "python" });
			const code =
				'import sys\nsys.stdout.write("a\\0b\\rprogress\\r\\n" + sys.stdin.read())\nsys.stderr.write("e\\0")\n';
			const stdin = "in\u0000put π";
			const res = await api(s.url, "POST", "/execute-code", {
				token: owner.token,
				body: { sessionId: session.id, code, stdin },
			});
			expect(res.status).toBe(200);
			// stdin without a final newline gets one (RELIABILITY 41), so the echo ends with it.
			expect(res.body).toMatchObject({ status: "ok", output: `a\u0000b\rprogress\r\n${stdin}\n`, error: "e\u0000" });
			const db = s.server.ctx.db;
			await eventually(async () => (await findExecutionResult(db, res.body.id)) !== undefined);
			expect(await findExecutionResult(db, res.body.id)).toMatchObject({
				output: `a\u0000b\rprogress\r\n${stdin}\n`,
				error: "e\u0000",
			});
			const runs = await api(s.url, "GET", `/session/${session.id}/runs`, { token: owner.token });
			expect(runs.body.runs[0]).toMatchObject({ id: res.body.id, output: `a\u0000b\rprogress\r\n${stdin}\n` });
		});

		it("RELIABILITY 37: tests whose stdin, expected and output hold NUL are judged and stored, run after run", async () => {
			const code = [
				"import sys",
				"data = sys.stdin.read()",
				'sys.stdout.write("a\\0b" if data == "x\\0y\\n" else "other:" + data)',
				"",
			].join("\n");
			const session = await createSession(s.url, owner.token, { language: "python", code });
			const tests = `/session/${session.id}/tests`;
			for (const body of [
				{ name: "nul\u0000visible", stdin: "x\u0000y", expected: "a\u0000b" },
				{ name: "nul\u0000hidden", stdin: "x\u0000y", expected: "a\u0000b", hidden: true },
				{ name: "wrong", stdin: "\u0000", expected: "a\u0000c" },
			]) {
				expect((await api(s.url, "POST", tests, { token: owner.token, body })).status).toBe(201);
			}
			for (let round = 0; round < 2; round++) {
				const res = await api(s.url, "POST", `/session/${session.id}/run-tests`, { token: owner.token, body: {} });
				expect(res.status).toBe(200);
				expect(res.body.passed).toBe(2);
				expect(res.body.total).toBe(3);
				const wrong = res.body.results.find((r: { name: string }) => r.name === "wrong");
				// The program reads stdin with the final newline it gets (RELIABILITY 41).
				expect(wrong).toMatchObject({ status: "wrong_answer", expected: "a\u0000c", output: "other:\u0000\n" });
				const stored = await findTestRun(s.server.ctx.db, res.body.runId);
				expect(stored?.cases.map((c) => c.name)).toEqual(["nul\u0000visible", "wrong", "nul\u0000hidden"]);
				expect(stored?.report).toEqual(res.body);
			}
		});
	});
}
