-- Append-only update log (decision 053): a store appends the Yjs update it has not stored yet,
-- O(update); compaction merges pending rows into documents.state off the hot path and marks them
-- compacted. Compacted rows are kept (bounded per session) as the document's edit history.
CREATE TABLE "document_updates" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"update" bytea NOT NULL,
	"compacted" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "document_updates" ADD CONSTRAINT "document_updates_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "document_updates_session_id_idx" ON "document_updates" USING btree ("session_id","id");
--> statement-breakpoint
CREATE INDEX "document_updates_pending_idx" ON "document_updates" USING btree ("session_id","id") WHERE NOT "compacted";
