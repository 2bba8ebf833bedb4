CREATE TABLE "execution_results" (
	"id" text PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"language" text NOT NULL,
	"status" text NOT NULL,
	"output" text NOT NULL,
	"error" text NOT NULL,
	"exit_code" integer,
	"execution_time_ms" integer NOT NULL,
	"memory_kb" integer,
	"submitted_by_id" text,
	"submitted_by_name" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hidden_tests" (
	"id" text PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"name" text NOT NULL,
	"stdin" text NOT NULL,
	"expected" text NOT NULL,
	"position" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "test_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"cases" jsonb NOT NULL,
	"report" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "execution_results" ADD CONSTRAINT "execution_results_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "hidden_tests" ADD CONSTRAINT "hidden_tests_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "test_runs" ADD CONSTRAINT "test_runs_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "execution_results_session_id_idx" ON "execution_results" USING btree ("session_id","created_at");
--> statement-breakpoint
CREATE INDEX "hidden_tests_session_id_idx" ON "hidden_tests" USING btree ("session_id","position");
--> statement-breakpoint
CREATE INDEX "test_runs_session_id_idx" ON "test_runs" USING btree ("session_id","created_at");
