ALTER TABLE "execution_results" ADD COLUMN "truncated" boolean DEFAULT false NOT NULL;
