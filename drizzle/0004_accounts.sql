-- RELIABILITY 50: usernames unique regardless of case. Existing names that differ only in case keep
-- the oldest account's name as it is (created_at, then id); every later one gets "-<its id>" appended,
-- which is unique because ids are.
UPDATE "users" AS u SET "username" = u."username" || '-' || u."id", "updated_at" = now()
WHERE EXISTS (
	SELECT 1 FROM "users" AS o
	WHERE lower(o."username") = lower(u."username") AND (o."created_at", o."id") < (u."created_at", u."id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_lower_idx" ON "users" USING btree (lower("username"));
--> statement-breakpoint
-- Invitations by email stay pending until an account with that email claims them (registering, or
-- its next look at its sessions): the inviter learns nothing about whether the account exists.
CREATE TABLE "invitations" (
	"session_id" text NOT NULL,
	"email" text NOT NULL,
	"role" text NOT NULL,
	"invited_by_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "invitations_session_id_email_pk" PRIMARY KEY("session_id","email")
);
--> statement-breakpoint
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "invitations_email_idx" ON "invitations" USING btree ("email");
