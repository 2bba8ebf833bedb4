-- Interviewer tools (decision 058): a session's description (from a question, shown to everyone),
-- private notes of the owner and interviewers (server only), and each user's library of questions.
ALTER TABLE "sessions" ADD COLUMN "description" text DEFAULT '' NOT NULL;
--> statement-breakpoint
CREATE TABLE "session_notes" (
	"session_id" text PRIMARY KEY NOT NULL,
	"text" text NOT NULL,
	"updated_by_id" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "session_notes" ADD CONSTRAINT "session_notes_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE TABLE "questions" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"title" text NOT NULL,
	"language" text NOT NULL,
	"code" text NOT NULL,
	"description" text NOT NULL,
	"tests" json NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "questions" ADD CONSTRAINT "questions_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "questions_owner_id_idx" ON "questions" USING btree ("owner_id","updated_at","id");
