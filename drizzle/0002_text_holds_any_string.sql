-- Decision 042: free-text columns keep any string. U+0010 now starts an escape (see
-- apps/sync-server/src/db/storedText.ts), so the U+0010 characters already stored are doubled;
-- test runs move from jsonb (which refuses \u0000) to json.
UPDATE "users" SET "username" = replace("username", E'\x10', E'\x10\x10'), "email" = replace("email", E'\x10', E'\x10\x10') WHERE strpos("username", E'\x10') > 0 OR strpos("email", E'\x10') > 0;
--> statement-breakpoint
UPDATE "sessions" SET "title" = replace("title", E'\x10', E'\x10\x10'), "code" = replace("code", E'\x10', E'\x10\x10') WHERE strpos("title", E'\x10') > 0 OR strpos("code", E'\x10') > 0;
--> statement-breakpoint
UPDATE "execution_results" SET "output" = replace("output", E'\x10', E'\x10\x10'), "error" = replace("error", E'\x10', E'\x10\x10'), "submitted_by_name" = replace("submitted_by_name", E'\x10', E'\x10\x10') WHERE strpos("output", E'\x10') > 0 OR strpos("error", E'\x10') > 0 OR strpos("submitted_by_name", E'\x10') > 0;
--> statement-breakpoint
UPDATE "hidden_tests" SET "name" = replace("name", E'\x10', E'\x10\x10'), "stdin" = replace("stdin", E'\x10', E'\x10\x10'), "expected" = replace("expected", E'\x10', E'\x10\x10') WHERE strpos("name", E'\x10') > 0 OR strpos("stdin", E'\x10') > 0 OR strpos("expected", E'\x10') > 0;
--> statement-breakpoint
ALTER TABLE "test_runs" ALTER COLUMN "cases" SET DATA TYPE json USING "cases"::json;
--> statement-breakpoint
ALTER TABLE "test_runs" ALTER COLUMN "report" SET DATA TYPE json USING "report"::json;
