import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	api,
	createSession,
	type RunningServer,
	registerUser,
	startTestServer,
	TEST_DATABASE_URL,
} from "./support/testServer.ts";

// RELIABILITY 50: accounts. One server with small throttles so each limit is reached in a few requests.
// A second server, not behind a proxy, has the tightest limits.
let s: RunningServer;
let base: string;
let direct: RunningServer;

// The second server keeps its tables in a Postgres schema of its own: quicker to start than a second PGlite.
const schema = `tandem_${"acc"}_${Math.random().toString(36).slice(2, 10)}`;

beforeAll(async () => {
	[s, direct] = await Promise.all([
		startTestServer(
			{ TRUST_PROXY: "127.0.0.1" },
			{
				throttle: { perAccount: 3, perIp: 40, windowMs: 60_000 },
				inviteThrottle: { perAccount: Number.POSITIVE_INFINITY, perIp: 300, windowMs: 60_000 },
			},
		),
		startTestServer(
			{ DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema },
			{
				throttle: { perAccount: 3, perIp: 2, windowMs: 60_000 },
				inviteThrottle: { perAccount: Number.POSITIVE_INFINITY, perIp: 3, windowMs: 60_000 },
			},
		),
	]);
	base = s.url;
}, 300_000);
afterAll(async () => {
	await Promise.all([s?.close(), direct?.close()]);
	const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
	await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
	await admin.end();
});

/** A client address of its own (TEST-NET-3), so each test's attempts count apart. */
let nextAddress = 1;
const client = () => ({ "x-forwarded-for": `203.0.113.${nextAddress++}` });

describe("usernames and passwords (RELIABILITY 50)", () => {
	it("RELIABILITY 50: a username that differs only in case is taken; login and invitations find it in any case", async () => {
		const password = "a sensible passphrase for mixed case";
		const first = await api(base, "POST", "/register", {
			body: { username: "CaseyJones", email: "casey@example.test", password },
		});
		expect(first.status).toBe(201);
		for (const username of ["caseyjones", "CASEYJONES", "cASEYjONES"]) {
			const again = await api(base, "POST", "/register", {
				body: { username, email: `${username}-other@example.test`, password },
			});
			expect(again.status).toBe(409);
			expect(again.body.error).toEqual({ code: "conflict", message: "That username is already taken" });
		}
		const login = await api(base, "POST", "/login", { body: { username: "CASEYjones", password }, headers: client() });
		expect(login.status).toBe(200);
		expect(login.body.user.username).toBe("CaseyJones");
		const owner = await registerUser(base, "caseowner");
		const session = await createSession(base, owner.token);
		const invited = await api(base, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, username: "caseyJONES" },
		});
		expect(invited.status).toBe(201);
		expect(invited.body.participant.userId).toBe(first.body.user.id);
	});

	it("RELIABILITY 50: refuses qwertyui, 123123123, eight spaces and a name-based password with a clear 400, on sign-up and password change", async () => {
		for (const password of ["qwertyui", "123123123", "        ", "password1", "11111111", "trivialname2024"]) {
			const res = await api(base, "POST", "/register", {
				body: { username: "trivialname", email: "trivial@example.test", password },
			});
			expect(res.status, JSON.stringify(password)).toBe(400);
			expect(res.body.error.code).toBe("invalid_input");
			expect(res.body.error.message).toMatch(/too common or too easy to guess/);
		}
		const u = await registerUser(base, "changer");
		const weak = await api(base, "POST", "/change-password", {
			token: u.token,
			body: { currentPassword: u.password, newPassword: "qwertyui" },
		});
		expect(weak.status).toBe(400);
		expect(weak.body.error.message).toMatch(/^newPassword is too common/);
	});
});

describe("the login throttle (RELIABILITY 50, issue 13)", () => {
	it("RELIABILITY 50: counts wrong passwords against the account, whether it was named by username or email", async () => {
		const victim = await registerUser(base, "both");
		const from = client();
		const wrong = (login: Record<string, string>) =>
			api(base, "POST", "/login", { body: { ...login, password: "not the password!" }, headers: from });
		expect((await wrong({ username: victim.user.username })).status).toBe(401);
		expect((await wrong({ email: victim.user.email })).status).toBe(401);
		expect((await wrong({ username: victim.user.username.toUpperCase() })).status).toBe(401);
		// The fourth try, by email and with the right password, is past the account's budget of 3.
		const locked = await api(base, "POST", "/login", {
			body: { email: victim.user.email.toUpperCase(), password: victim.password },
			headers: from,
		});
		expect(locked.status).toBe(429);
		expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
	});

	it("issue 13 / RELIABILITY 50: behind TRUST_PROXY it counts each real client address apart", async () => {
		// 40 attempts per address: one client's flood does not stop the next client behind the same proxy.
		const flooder = client();
		let last = 0;
		for (let i = 0; i < 41; i++) {
			last = (
				await api(base, "POST", "/login", {
					body: { username: `nobody${i}`, password: "not the password!" },
					headers: flooder,
				})
			).status;
		}
		expect(last).toBe(429);
		const person = await registerUser(base, "behindproxy");
		const ok = await api(base, "POST", "/login", {
			body: { username: person.user.username, password: person.password },
			headers: client(),
		});
		expect(ok.status).toBe(200);
	});

	it("issue 13: without TRUST_PROXY a forged X-Forwarded-For changes nothing", async () => {
		const statuses: number[] = [];
		for (let i = 0; i < 3; i++) {
			const res = await api(direct.url, "POST", "/login", {
				body: { username: `ghost${i}`, password: "not the password!" },
				headers: { "x-forwarded-for": `198.51.100.${i}` },
			});
			statuses.push(res.status);
		}
		expect(statuses).toEqual([401, 401, 429]);
	});
});

describe("invitations, leaving and the session list (RELIABILITY 50)", () => {
	it("RELIABILITY 50: inviting by email answers the same for an account and for nobody, and registering claims it", async () => {
		const owner = await registerUser(base, "emailer");
		const member = await registerUser(base, "member");
		const session = await createSession(base, owner.token, { title: "By email" });
		const invite = (email: string) =>
			api(base, "POST", "/invite-user", { token: owner.token, body: { sessionId: session.id, email, role: "viewer" } });
		const known = await invite(member.user.email.toUpperCase());
		const unknown = await invite("Newcomer@Example.test");
		expect(known.status).toBe(201);
		expect(unknown.status).toBe(201);
		expect(known.body).toEqual({ invitation: { email: member.user.email, role: "viewer", status: "pending" } });
		expect(unknown.body).toEqual({ invitation: { email: "newcomer@example.test", role: "viewer", status: "pending" } });
		expect(known.text).not.toContain("username");
		expect(known.text).not.toContain(member.user.id);

		// The account's next look at its sessions claims the invitation.
		const listed = await api(base, "GET", "/sessions", { token: member.token });
		expect(listed.body.sessions.map((x: { id: string }) => x.id)).toContain(session.id);
		// Someone registering with the invited email joins with the invitation's role.
		const newcomer = await api(base, "POST", "/register", {
			body: { username: "newcomer", email: "newcomer@example.test", password: "a sensible passphrase for a newcomer" },
		});
		expect(newcomer.status).toBe(201);
		const view = await api(base, "GET", `/session/${session.id}`, { token: newcomer.body.token });
		expect(view.status).toBe(200);
		expect(view.body.participants.find((p: { userId: string }) => p.userId === newcomer.body.user.id)?.role).toBe(
			"viewer",
		);
	});

	it("RELIABILITY 50: throttles invitations per inviter with 429 and Retry-After", async () => {
		const owner = await registerUser(direct.url, "spam");
		const other = await registerUser(direct.url, "calm");
		const target = await registerUser(direct.url, "target");
		const a = await createSession(direct.url, owner.token);
		const b = await createSession(direct.url, other.token);
		const statuses: number[] = [];
		for (let i = 0; i < 4; i++) {
			const res = await api(direct.url, "POST", "/invite-user", {
				token: owner.token,
				body: { sessionId: a.id, email: `someone${i}@example.test` },
			});
			statuses.push(res.status);
			if (res.status === 429) expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
		}
		expect(statuses).toEqual([201, 201, 201, 429]);
		// Another inviter is not affected.
		const calm = await api(direct.url, "POST", "/invite-user", {
			token: other.token,
			body: { sessionId: b.id, username: target.user.username },
		});
		expect(calm.status).toBe(201);
	});

	it("RELIABILITY 50: anyone but the owner can leave a session, and it is gone from their list", async () => {
		const owner = await registerUser(base, "host");
		const guest = await registerUser(base, "leaver");
		const session = await createSession(base, owner.token, { title: "Unwanted" });
		await api(base, "POST", "/invite-user", {
			token: owner.token,
			body: { sessionId: session.id, username: guest.user.username },
		});
		const left = await api(base, "POST", `/session/${session.id}/leave`, { token: guest.token });
		expect(left.status).toBe(204);
		expect((await api(base, "GET", `/session/${session.id}`, { token: guest.token })).status).toBe(403);
		const list = await api(base, "GET", "/sessions", { token: guest.token });
		expect(list.body.sessions.map((x: { id: string }) => x.id)).not.toContain(session.id);
		const again = await api(base, "POST", `/session/${session.id}/leave`, { token: guest.token });
		expect(again.status).toBe(403);
		const ownerLeaves = await api(base, "POST", `/session/${session.id}/leave`, { token: owner.token });
		expect(ownerLeaves.status).toBe(400);
		expect(ownerLeaves.body.error.message).toMatch(/owner cannot leave/);
	});

	it("RELIABILITY 50: pages GET /sessions so 205 unsolicited invitations do not push out one's own sessions", async () => {
		const victim = await registerUser(base, "popular");
		const spammer = await registerUser(base, "spammer");
		const own = await createSession(base, victim.token, { title: "Mine" });
		const invitedTo = new Set<string>();
		for (let i = 0; i < 205; i++) {
			const session = await createSession(base, spammer.token, { title: `spam ${i}` });
			const res = await api(base, "POST", "/invite-user", {
				token: spammer.token,
				body: { sessionId: session.id, userId: victim.user.id },
			});
			expect(res.status).toBe(201);
			invitedTo.add(session.id);
		}
		const seen: string[] = [];
		let cursor: string | null = null;
		let pages = 0;
		do {
			const query: string = cursor === null ? "?limit=60" : `?limit=60&cursor=${encodeURIComponent(cursor)}`;
			const page = await api(base, "GET", `/sessions${query}`, { token: victim.token });
			expect(page.status).toBe(200);
			expect(page.body.sessions.length).toBeLessThanOrEqual(60);
			seen.push(...page.body.sessions.map((x: { id: string }) => x.id));
			cursor = page.body.nextCursor;
			pages++;
		} while (cursor !== null && pages < 10);
		expect(pages).toBe(4);
		expect(new Set(seen).size).toBe(seen.length);
		expect(seen.length).toBe(206);
		expect(seen).toContain(own.id);
		for (const id of invitedTo) expect(seen).toContain(id);

		const badCursor = await api(base, "GET", "/sessions?cursor=not-one-of-ours", { token: victim.token });
		expect(badCursor.status).toBe(400);
		const badLimit = await api(base, "GET", "/sessions?limit=5000", { token: victim.token });
		expect(badLimit.status).toBe(400);
	});
});
