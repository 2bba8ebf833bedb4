-- Interviews (issue 12): roles owner/interviewer/editor/viewer, invite links, guest accounts,
-- pending email invitations, the end of an interview, and the stdin each run used.
UPDATE "participants" SET "role" = 'viewer' WHERE "role" NOT IN ('owner', 'interviewer', 'editor', 'viewer');
--> statement-breakpoint
ALTER TABLE "participants" ADD CONSTRAINT "participants_role_check" CHECK ("role" IN ('owner', 'interviewer', 'editor', 'viewer'));
--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "ended_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "display_name" text;
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "guest_session_id" text REFERENCES "sessions"("id") ON DELETE CASCADE;
--> statement-breakpoint
ALTER TABLE "execution_results" ADD COLUMN "stdin" text;
--> statement-breakpoint
CREATE TABLE "invite_links" (
	"id" text PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL REFERENCES "sessions"("id") ON DELETE CASCADE,
	"token" text NOT NULL UNIQUE,
	"role" text NOT NULL CHECK ("role" IN ('editor', 'viewer')),
	"created_by_id" text REFERENCES "users"("id") ON DELETE SET NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "invite_links_session_id_idx" ON "invite_links" ("session_id", "created_at");
--> statement-breakpoint
-- Pending email invitations (the table comes from 0004): interviewers may be invited too.
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_role_check" CHECK ("role" IN ('interviewer', 'editor', 'viewer'));
