-- Session history (decision 055, SPEC CS10-CS13): events beside the update log, who owns each Yjs
-- client id (authorship), and the base that pruned log rows are folded into so any kept point
-- can still be rebuilt (base + rows up to it).
ALTER TABLE "documents" ADD COLUMN "history_base" bytea;
--> statement-breakpoint
CREATE TABLE "session_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"kind" text NOT NULL,
	"user_id" text,
	"data" json DEFAULT '{}'::json NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "session_events" ADD CONSTRAINT "session_events_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "session_events_session_id_idx" ON "session_events" USING btree ("session_id","created_at");
--> statement-breakpoint
CREATE TABLE "session_clients" (
	"session_id" text NOT NULL,
	"client_id" bigint NOT NULL,
	"user_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "session_clients_session_id_client_id_pk" PRIMARY KEY("session_id","client_id")
);
--> statement-breakpoint
ALTER TABLE "session_clients" ADD CONSTRAINT "session_clients_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
-- Documents stored before the log kept their whole past in the snapshot: that is their base.
UPDATE "documents" SET "history_base" = "state" WHERE NOT EXISTS (SELECT 1 FROM "document_updates" u WHERE u."session_id" = "documents"."session_id");
