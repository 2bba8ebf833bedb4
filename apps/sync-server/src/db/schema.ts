import { sql } from "drizzle-orm";
import {
	bigserial,
	boolean,
	customType,
	index,
	integer,
	json,
	pgTable,
	primaryKey,
	text,
	timestamp,
	uniqueIndex,
} from "drizzle-orm/pg-core";
import { storedText } from "./storedText.ts";

/** Yjs state as Postgres bytea, always handed out as a plain Uint8Array (SPEC CS6). */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
	dataType: () => "bytea",
	toDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)),
	fromDriver: (value) => new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength)),
});

const stamp = (name: string) => timestamp(name, { withTimezone: true, mode: "date" }).notNull().defaultNow();

// Free text (what people type, name or run) is `storedText`: any string, U+0000 included (decision 042).
/** Usernames are unique regardless of case (RELIABILITY 50); emails are stored lower-cased. */
export const users = pgTable(
	"users",
	{
		id: text("id").primaryKey(),
		username: storedText("username").notNull().unique(),
		email: storedText("email").notNull().unique(),
		passwordHash: text("password_hash").notNull(),
		tokenVersion: integer("token_version").notNull().default(0),
		/** The name a guest typed on /join (null for registered accounts, who show their username). */
		displayName: storedText("display_name"),
		/** Set for guest accounts: the one session they can reach (they cannot log in or create sessions). */
		guestSessionId: text("guest_session_id"),
		createdAt: stamp("created_at"),
		updatedAt: stamp("updated_at"),
	},
	(t) => [uniqueIndex("users_username_lower_idx").on(sql`lower(${t.username})`)],
);

export const sessions = pgTable("sessions", {
	id: text("id").primaryKey(),
	ownerId: text("owner_id")
		.notNull()
		.references(() => users.id),
	title: storedText("title").notNull().default(""),
	code: storedText("code").notNull().default(""),
	language: text("language").notNull(),
	/** When the interview was ended (POST /end); null while open. */
	endedAt: timestamp("ended_at", { withTimezone: true, mode: "date" }),
	createdAt: stamp("created_at"),
	updatedAt: stamp("updated_at"),
});

export const participants = pgTable(
	"participants",
	{
		sessionId: text("session_id")
			.notNull()
			.references(() => sessions.id, { onDelete: "cascade" }),
		userId: text("user_id")
			.notNull()
			.references(() => users.id, { onDelete: "cascade" }),
		role: text("role").notNull(),
		joinedAt: stamp("joined_at"),
	},
	(t) => [primaryKey({ columns: [t.sessionId, t.userId] })],
);

/**
 * An invitation by email (RELIABILITY 50): pending until an account with that email claims it, so the
 * inviter's answer is the same whether or not the account exists.
 */
export const invitations = pgTable(
	"invitations",
	{
		sessionId: text("session_id")
			.notNull()
			.references(() => sessions.id, { onDelete: "cascade" }),
		/** Lower-cased, as users.email. */
		email: text("email").notNull(),
		role: text("role").notNull(),
		invitedById: text("invited_by_id").notNull(),
		createdAt: stamp("created_at"),
	},
	(t) => [primaryKey({ columns: [t.sessionId, t.email] }), index("invitations_email_idx").on(t.email)],
);

export const documents = pgTable("documents", {
	sessionId: text("session_id")
		.primaryKey()
		.references(() => sessions.id, { onDelete: "cascade" }),
	state: bytea("state").notNull(),
	updatedAt: stamp("updated_at"),
});

/**
 * The append-only update log (decision 053): one row per store, holding the Yjs update the storing
 * node had not stored before. `compacted` rows are already merged into `documents.state`; they stay
 * (bounded per session) as edit history.
 */
export const documentUpdates = pgTable(
	"document_updates",
	{
		id: bigserial("id", { mode: "number" }).primaryKey(),
		sessionId: text("session_id")
			.notNull()
			.references(() => sessions.id, { onDelete: "cascade" }),
		update: bytea("update").notNull(),
		compacted: boolean("compacted").notNull().default(false),
		createdAt: stamp("created_at"),
	},
	(t) => [index("document_updates_session_id_idx").on(t.sessionId, t.id)],
);

export const serverSecrets = pgTable("server_secrets", {
	name: text("name").primaryKey(),
	value: text("value").notNull(),
	createdAt: stamp("created_at"),
});

/** One finished run (POST /execute-code or /submit-code), keyed by its submission (job) id. */
export const executionResults = pgTable(
	"execution_results",
	{
		id: text("id").primaryKey(),
		sessionId: text("session_id")
			.notNull()
			.references(() => sessions.id, { onDelete: "cascade" }),
		language: text("language").notNull(),
		status: text("status").notNull(),
		output: storedText("output").notNull(),
		error: storedText("error").notNull(),
		exitCode: integer("exit_code"),
		executionTimeMs: integer("execution_time_ms").notNull(),
		memoryKb: integer("memory_kb"),
		submittedById: text("submitted_by_id"),
		submittedByName: storedText("submitted_by_name"),
		/** Output or error was cut at the result size bound (RELIABILITY 48; migration 0003). */
		truncated: boolean("truncated").notNull().default(false),
		/** The stdin the run read (null for runs stored before it was kept). */
		stdin: storedText("stdin"),
		createdAt: stamp("created_at"),
	},
	(t) => [index("execution_results_session_id_idx").on(t.sessionId, t.createdAt)],
);

/** Tests only the owner sees; they never enter the shared document. */
export const hiddenTests = pgTable(
	"hidden_tests",
	{
		id: text("id").primaryKey(),
		sessionId: text("session_id")
			.notNull()
			.references(() => sessions.id, { onDelete: "cascade" }),
		name: storedText("name").notNull(),
		stdin: storedText("stdin").notNull(),
		expected: storedText("expected").notNull(),
		position: integer("position").notNull(),
		createdAt: stamp("created_at"),
	},
	(t) => [index("hidden_tests_session_id_idx").on(t.sessionId, t.position)],
);

/**
 * One POST /run-tests: the cases judged (a snapshot taken at submission, so any node can judge
 * the verdict when the queue reports it) and, once done, the full unredacted verdicts. `json`, not
 * `jsonb`: jsonb refuses the escape \u0000 that names and outputs may hold (decision 042).
 */
export const testRuns = pgTable(
	"test_runs",
	{
		id: text("id").primaryKey(),
		sessionId: text("session_id")
			.notNull()
			.references(() => sessions.id, { onDelete: "cascade" }),
		cases: json("cases").notNull(),
		report: json("report"),
		createdAt: stamp("created_at"),
	},
	(t) => [index("test_runs_session_id_idx").on(t.sessionId, t.createdAt)],
);

/** Invite links (POST /session/{id}/links): whoever opens `/join/{token}` joins with `role`. */
export const inviteLinks = pgTable(
	"invite_links",
	{
		id: text("id").primaryKey(),
		sessionId: text("session_id")
			.notNull()
			.references(() => sessions.id, { onDelete: "cascade" }),
		token: text("token").notNull().unique(),
		role: text("role").notNull(),
		createdById: text("created_by_id"),
		createdAt: stamp("created_at"),
	},
	(t) => [index("invite_links_session_id_idx").on(t.sessionId, t.createdAt)],
);
