import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	api,
	createSession,
	type RunningServer,
	registerUser,
	startTestServer,
	TEST_TOKEN_SECRET,
} from "./support/testServer.ts";

let s: RunningServer;
let base: string;

beforeAll(async () => {
	s = await startTestServer(
		{ BODY_LIMIT_BYTES: "65536" },
		{
			throttle: { perAccount: 3, perIp: 1000, windowMs: 60_000 },
			guessThrottle: { perAccount: 5, perIp: Number.POSITIVE_INFINITY, windowMs: 60_000 },
		},
	);
	base = s.url;
});
afterAll(async () => {
	await s?.close();
});

const noHash = (text: string) => expect(text.toLowerCase()).not.toContain("passwordhash");
const noHashField = (text: string) => expect(text).not.toContain("password_hash");

describe("POST /register", () => {
	it("creates a user and returns a token and the user without its password hash", async () => {
		const res = await api(base, "POST", "/register", {
			body: { username: "reg_ok", email: "Reg_OK@Example.test", password: "a sensible passphrase" },
		});
		expect(res.status).toBe(201);
		expect(typeof res.body.token).toBe("string");
		expect(res.body.user).toMatchObject({ username: "reg_ok", email: "reg_ok@example.test" });
		expect(res.headers.get("set-cookie")).toMatch(/tandem_token=.*HttpOnly.*SameSite=Lax/i);
		noHash(res.text);
		noHashField(res.text);
	});

	it("answers 400 with a clear message for malformed JSON", async () => {
		const res = await api(base, "POST", "/register", { body: '{"username": "x",' });
		expect(res.status).toBe(400);
		expect(res.body.error.code).toBe("invalid_json");
		expect(res.text).not.toMatch(/at .*\.ts:\d+/);
	});

	it("answers 400 naming missing fields", async () => {
		const res = await api(base, "POST", "/register", { body: { username: "nobody" } });
		expect(res.status).toBe(400);
		expect(res.body.error.code).toBe("invalid_input");
		expect(res.body.error.message).toMatch(/email/);
		expect(res.body.error.message).toMatch(/password/);
	});

	it("refuses a one-character password, a common password, and accepts a 100-character one", async () => {
		const hundred =
			"seventy-two zebras quietly hum jazz inside a blue kayak while the lighthouse keeper counts 9 owls".padEnd(
				100,
				"!",
			);
		const short = await api(base, "POST", "/register", {
			body: { username: "shorty", email: "shorty@example.test", password: "x" },
		});
		expect(short.status).toBe(400);
		expect(short.body.error.message).toMatch(/at least 8/);
		const common = await api(base, "POST", "/register", {
			body: { username: "common", email: "common@example.test", password: "Password123" },
		});
		expect(common.status).toBe(400);
		expect(common.body.error.message).toMatch(/common/);
		const long = await api(base, "POST", "/register", {
			body: { username: "longpw", email: "longpw@example.test", password: hundred },
		});
		expect(long.status).toBe(201);
		const login = await api(base, "POST", "/login", { body: { username: "longpw", password: hundred } });
		expect(login.status).toBe(200);
	});

	it("answers 409 for a taken username and for a taken email", async () => {
		await api(base, "POST", "/register", {
			body: { username: "taken", email: "taken@example.test", password: "another passphrase" },
		});
		const user = await api(base, "POST", "/register", {
			body: { username: "taken", email: "other@example.test", password: "another passphrase" },
		});
		expect(user.status).toBe(409);
		expect(user.body.error).toEqual({ code: "conflict", message: "That username is already taken" });
		const email = await api(base, "POST", "/register", {
			body: { username: "other", email: "TAKEN@example.test", password: "another passphrase" },
		});
		expect(email.status).toBe(409);
		expect(email.body.error.message).toMatch(/email/);
	});

	it("answers 413 for a body over the limit", async () => {
		const res = await api(base, "POST", "/register", {
			body: { username: "big", email: "big@example.test", password: "p".repeat(70_000) },
		});
		expect(res.status).toBe(413);
		expect(res.body.error.code).toBe("payload_too_large");
	});
});

describe("POST /login", () => {
	it("logs in by username or email", async () => {
		const u = await registerUser(base, "login");
		const byName = await api(base, "POST", "/login", { body: { username: u.user.username, password: u.password } });
		expect(byName.status).toBe(200);
		expect(byName.body.user.id).toBe(u.user.id);
		noHash(byName.text);
		const byEmail = await api(base, "POST", "/login", {
			body: { email: u.user.email.toUpperCase(), password: u.password },
		});
		expect(byEmail.status).toBe(200);
	});

	it("answers an unknown user and a wrong password with the same 401 body", async () => {
		const u = await registerUser(base, "same");
		const wrong = await api(base, "POST", "/login", {
			body: { username: u.user.username, password: "wrong password!" },
		});
		const unknown = await api(base, "POST", "/login", {
			body: { username: "no_such_user_here", password: "wrong password!" },
		});
		expect(wrong.status).toBe(401);
		expect(unknown.status).toBe(401);
		expect(wrong.text).toBe(unknown.text);
	});

	it("answers 400 without a login name", async () => {
		const res = await api(base, "POST", "/login", { body: { password: "whatever123" } });
		expect(res.status).toBe(400);
		expect(res.body.error.message).toMatch(/email or username/);
	});

	it("throttles repeated failures on one account with 429 and Retry-After, while other accounts still log in", async () => {
		const victim = await registerUser(base, "victim");
		const other = await registerUser(base, "bystander");
		for (let i = 0; i < 3; i++) {
			const r = await api(base, "POST", "/login", {
				body: { username: victim.user.username, password: `guess-${i}-guess` },
			});
			expect(r.status).toBe(401);
		}
		const blocked = await api(base, "POST", "/login", {
			body: { username: victim.user.username, password: victim.password },
		});
		expect(blocked.status).toBe(429);
		expect(blocked.body.error.code).toBe("rate_limited");
		expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
		const fine = await api(base, "POST", "/login", {
			body: { username: other.user.username, password: other.password },
		});
		expect(fine.status).toBe(200);
	});
});

describe("tokens", () => {
	const secret = new TextEncoder().encode(TEST_TOKEN_SECRET);

	it("refuses requests without a token", async () => {
		const res = await api(base, "GET", "/me");
		expect(res.status).toBe(401);
		expect(res.body.error.code).toBe("unauthorized");
	});

	it("refuses expired, tampered, alg-none and wrong-key tokens with 401", async () => {
		const u = await registerUser(base, "tok");
		const good = await api(base, "GET", "/me", { token: u.token });
		expect(good.status).toBe(200);
		expect(good.body.user.id).toBe(u.user.id);

		const expired = await new SignJWT({ tv: 0 })
			.setProtectedHeader({ alg: "HS256" })
			.setSubject(u.user.id)
			.setIssuer("tandem")
			.setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
			.setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
			.sign(secret);
		const wrongKey = await new SignJWT({ tv: 0 })
			.setProtectedHeader({ alg: "HS256" })
			.setSubject(u.user.id)
			.setIssuer("tandem")
			.setExpirationTime("1h")
			.sign(new TextEncoder().encode("another-secret-another-secret-another"));
		const [h, p, sig] = u.token.split(".") as [string, string, string];
		const claims = JSON.parse(Buffer.from(p, "base64url").toString());
		const forged = Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString("base64url");
		const tampered = `${h}.${forged}.${sig}`;
		const noneHeader = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
		const algNone = `${noneHeader}.${p}.`;

		for (const token of [expired, wrongKey, tampered, algNone, "garbage"]) {
			const res = await api(base, "GET", "/me", { token });
			expect(res.status).toBe(401);
			expect(res.body.error.code).toBe("unauthorized");
		}
	});

	it("logout invalidates the token", async () => {
		const u = await registerUser(base, "out");
		expect((await api(base, "POST", "/logout", { token: u.token })).status).toBe(200);
		expect((await api(base, "GET", "/me", { token: u.token })).status).toBe(401);
		const again = await api(base, "POST", "/login", { body: { username: u.user.username, password: u.password } });
		expect((await api(base, "GET", "/me", { token: again.body.token })).status).toBe(200);
	});

	it("changes the password: earlier tokens stop working, the answer carries a working one", async () => {
		const u = await registerUser(base, "changer");
		const newPassword = "a brand new passphrase 42";
		const wrong = await api(base, "POST", "/change-password", {
			token: u.token,
			body: { currentPassword: "not my password", newPassword },
		});
		expect(wrong.status).toBe(403);
		expect(wrong.body.error.message).toMatch(/current password/);
		const weak = await api(base, "POST", "/change-password", {
			token: u.token,
			body: { currentPassword: u.password, newPassword: "short" },
		});
		expect(weak.status).toBe(400);
		expect(weak.body.error.message).toMatch(/^newPassword must be at least/);
		expect((await api(base, "POST", "/change-password", { token: u.token, body: {} })).status).toBe(400);
		expect(
			(await api(base, "POST", "/change-password", { body: { currentPassword: u.password, newPassword } })).status,
		).toBe(401);
		// Nothing changed so far.
		expect((await api(base, "GET", "/me", { token: u.token })).status).toBe(200);

		const changed = await api(base, "POST", "/change-password", {
			token: u.token,
			body: { currentPassword: u.password, newPassword },
		});
		expect(changed.status).toBe(200);
		expect(JSON.stringify(changed.body)).not.toContain("passwordHash");
		expect((await api(base, "GET", "/me", { token: u.token })).status).toBe(401);
		expect((await api(base, "GET", "/me", { token: changed.body.token })).status).toBe(200);
		const oldLogin = await api(base, "POST", "/login", { body: { username: u.user.username, password: u.password } });
		expect(oldLogin.status).toBe(401);
		const newLogin = await api(base, "POST", "/login", { body: { username: u.user.username, password: newPassword } });
		expect(newLogin.status).toBe(200);
	});

	it("accepts the cookie, and refuses a cookie-carrying POST from a foreign origin", async () => {
		const u = await registerUser(base, "cookie");
		const cookie = `tandem_token=${u.token}`;
		expect((await api(base, "GET", "/me", { headers: { cookie } })).status).toBe(200);
		const sameSite = await api(base, "POST", "/create-session", { body: {}, headers: { cookie, origin: base } });
		expect(sameSite.status).toBe(201);
		const foreign = await api(base, "POST", "/create-session", {
			body: {},
			headers: { cookie, origin: "https://evil.example" },
		});
		expect(foreign.status).toBe(403);
	});
});

describe("sessions", () => {
	it("creates a session seeded with code, language and title", async () => {
		const u = await registerUser(base, "owner");
		const res = await api(base, "POST", "/create-session", {
			token: u.token,
			body: { title: "Two sum", language: "go", code: "package main\n" },
		});
		expect(res.status).toBe(201);
		expect(res.body).toMatchObject({ ownerId: u.user.id, title: "Two sum", language: "go", code: "package main\n" });
		expect(res.body.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
		expect(res.body.participants).toEqual([
			{ userId: u.user.id, username: u.user.username, role: "owner", joinedAt: expect.any(String), guest: false },
		]);
		const got = await api(base, "GET", `/session/${res.body.id}`, { token: u.token });
		expect(got.status).toBe(200);
		expect(got.body.code).toBe("package main\n");
	});

	it("refuses an unknown language and requires auth", async () => {
		const u = await registerUser(base, "lang");
		const bad = await api(base, "POST", "/create-session", { token: u.token, body: { language: "cobol" } });
		expect(bad.status).toBe(400);
		expect(bad.body.error.message).toMatch(/language must be one of/);
		expect((await api(base, "POST", "/create-session", { body: {} })).status).toBe(401);
	});

	it("answers 404 for an unknown session and 403 for a stranger", async () => {
		const owner = await registerUser(base, "own");
		const stranger = await registerUser(base, "stranger");
		const session = await createSession(base, owner.token);
		expect((await api(base, "GET", "/session/AAAAAAAAAAAAAAAAAAAAAA", { token: owner.token })).status).toBe(404);
		expect((await api(base, "GET", "/session/..%2F..%2Fetc", { token: owner.token })).status).toBe(404);
		const res = await api(base, "GET", `/session/${session.id}`, { token: stranger.token });
		expect(res.status).toBe(403);
		expect(res.body.error.code).toBe("forbidden");
	});

	it("answers guessed session ids with 404 and then 429", async () => {
		const guesser = await registerUser(base, "guesser");
		for (let i = 0; i < 5; i++) {
			const miss = await api(base, "GET", `/session/guess${i}AAAAAAAAAAAAAAAAAA`, { token: guesser.token });
			expect(miss.status).toBe(404);
		}
		const limited = await api(base, "GET", "/session/guess9AAAAAAAAAAAAAAAAAA", { token: guesser.token });
		expect(limited.status).toBe(429);
		expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
	});

	it("registers a client-made id idempotently for its owner and 409 for anyone else", async () => {
		const owner = await registerUser(base, "offline");
		const other = await registerUser(base, "squatter");
		const id = `offline_${Math.random().toString(36).slice(2)}_abcdefghijkl`;
		const first = await api(base, "POST", "/create-session", { token: owner.token, body: { id, title: "Offline" } });
		expect(first.status).toBe(201);
		expect(first.body.id).toBe(id);
		const again = await api(base, "POST", "/create-session", { token: owner.token, body: { id } });
		expect(again.status).toBe(200);
		const taken = await api(base, "POST", "/create-session", { token: other.token, body: { id } });
		expect(taken.status).toBe(409);
		const bad = await api(base, "POST", "/create-session", { token: owner.token, body: { id: "short" } });
		expect(bad.status).toBe(400);
	});

	it("lets only the owner invite, by username, email or userId, and re-inviting changes the role", async () => {
		const owner = await registerUser(base, "inv");
		const ed = await registerUser(base, "ed");
		const vi = await registerUser(base, "vi");
		const session = await createSession(base, owner.token, { title: "Shared" });

		const byName = await api(base, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, username: ed.user.username },
		});
		expect(byName.status).toBe(201);
		expect(byName.body.participant).toMatchObject({ userId: ed.user.id, role: "editor" });
		const byEmail = await api(base, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, email: vi.user.email, role: "viewer" },
		});
		// By email the invitation is pending until that account looks (RELIABILITY 50); the viewer's
		// GET /session below claims it.
		expect(byEmail.status).toBe(201);
		expect(byEmail.body).toEqual({ invitation: { email: vi.user.email, role: "viewer", status: "pending" } });

		const notOwner = await api(base, "POST", "/invite-user", {
			token: ed.token,
			body: { sessionId: session.id, userId: vi.user.id, role: "editor" },
		});
		expect(notOwner.status).toBe(403);

		const reinvite = await api(base, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, userId: ed.user.id, role: "viewer" },
		});
		expect(reinvite.status).toBe(200);
		expect(reinvite.body.participant.role).toBe("viewer");

		const view = await api(base, "GET", `/session/${session.id}`, { token: vi.token });
		expect(view.status).toBe(200);
		expect(view.body.participants.map((p: { role: string }) => p.role).sort()).toEqual(["owner", "viewer", "viewer"]);
		noHash(view.text);

		const unknown = await api(base, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, username: "ghost_user_x" },
		});
		expect(unknown.status).toBe(404);
		const badRole = await api(base, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, username: ed.user.username, role: "admin" },
		});
		expect(badRole.status).toBe(400);
		const missing = await api(base, "POST", "/invite-user", { token: owner.token, body: { sessionId: session.id } });
		expect(missing.status).toBe(400);
	});

	it("lists my sessions newest first with my role", async () => {
		const owner = await registerUser(base, "lister");
		const guest = await registerUser(base, "guest");
		const a = await createSession(base, owner.token, { title: "A" });
		const b = await createSession(base, guest.token, { title: "B", language: "rust" });
		await api(base, "POST", "/invite-user", {
			token: guest.token,
			body: { sessionId: b.id, userId: owner.user.id, role: "viewer" },
		});
		const res = await api(base, "GET", "/sessions", { token: owner.token });
		expect(res.status).toBe(200);
		expect(res.body.sessions.map((x: { id: string }) => x.id)).toEqual([b.id, a.id]);
		expect(res.body.sessions[0]).toMatchObject({ title: "B", language: "rust", role: "viewer" });
		expect(res.body.sessions[1]).toMatchObject({ title: "A", role: "owner" });
	});
});

describe("health and static", () => {
	it("serves /livez and /readyz", async () => {
		expect((await api(base, "GET", "/livez")).status).toBe(200);
		expect((await api(base, "GET", "/readyz")).status).toBe(200);
	});

	it("says how to build the editor when it is missing, and 404s unknown API paths as JSON", async () => {
		const root = await api(base, "GET", "/");
		expect(root.status).toBe(200);
		expect(root.text).toMatch(/build/);
		const missing = await api(base, "GET", "/no-such-api");
		expect(missing.status).toBe(404);
		expect(missing.body.error.code).toBe("not_found");
	});
});

describe("route groups", () => {
	it("lets an added route group read the session document and check roles", async () => {
		const { requireSessionRole, viewSessionDocument } = await import("../src/server.ts");
		const extra = await startTestServer(
			{},
			{
				routes: [
					(app, ctx) => {
						app.get("/session/:sessionId/peek", async (request) => {
							const { sessionId } = request.params as { sessionId: string };
							const { role } = await requireSessionRole(ctx, request, sessionId, ["owner", "editor"]);
							const view = await viewSessionDocument(ctx.hocuspocus, ctx.store, sessionId);
							return { role, code: view?.code ?? "" };
						});
					},
				],
			},
		);
		try {
			const owner = await registerUser(extra.url, "grp");
			const viewer = await registerUser(extra.url, "grpv");
			const session = await createSession(extra.url, owner.token, { code: "peeked" });
			await api(extra.url, "POST", "/invite-user", {
				token: owner.token,
				body: { sessionId: session.id, userId: viewer.user.id, role: "viewer" },
			});
			const ok = await api(extra.url, "GET", `/session/${session.id}/peek`, { token: owner.token });
			expect(ok.body).toEqual({ role: "owner", code: "peeked" });
			expect((await api(extra.url, "GET", `/session/${session.id}/peek`, { token: viewer.token })).status).toBe(403);
			expect((await api(extra.url, "GET", "/session/AAAAAAAAAAAAAAAAAAAAAA/peek", { token: owner.token })).status).toBe(
				404,
			);
			expect((await api(extra.url, "GET", `/session/${session.id}/peek`)).status).toBe(401);
		} finally {
			await extra.close();
		}
	});
});
