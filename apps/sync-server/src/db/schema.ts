import { customType, integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/** Yjs state as Postgres bytea, always handed out as a plain Uint8Array (SPEC CS6). */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
	dataType: () => "bytea",
	toDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)),
	fromDriver: (value) => new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength)),
});

const stamp = (name: string) => timestamp(name, { withTimezone: true, mode: "date" }).notNull().defaultNow();

export const users = pgTable("users", {
	id: text("id").primaryKey(),
	username: text("username").notNull().unique(),
	email: text("email").notNull().unique(),
	passwordHash: text("password_hash").notNull(),
	tokenVersion: integer("token_version").notNull().default(0),
	createdAt: stamp("created_at"),
	updatedAt: stamp("updated_at"),
});

export const sessions = pgTable("sessions", {
	id: text("id").primaryKey(),
	ownerId: text("owner_id")
		.notNull()
		.references(() => users.id),
	title: text("title").notNull().default(""),
	code: text("code").notNull().default(""),
	language: text("language").notNull(),
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

export const documents = pgTable("documents", {
	sessionId: text("session_id")
		.primaryKey()
		.references(() => sessions.id, { onDelete: "cascade" }),
	state: bytea("state").notNull(),
	updatedAt: stamp("updated_at"),
});

export const serverSecrets = pgTable("server_secrets", {
	name: text("name").primaryKey(),
	value: text("value").notNull(),
	createdAt: stamp("created_at"),
});
