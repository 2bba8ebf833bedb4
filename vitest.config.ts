import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: [
			"packages/*/src/**/*.test.ts",
			"apps/*/src/**/*.test.ts",
			"apps/*/test/**/*.test.ts",
			"apps/*/e2e/**/*.test.ts",
			"bench/**/*.test.ts",
			"deploy/**/*.test.ts",
		],
		testTimeout: 60_000,
		hookTimeout: 120_000,
		// Two cores: integration, sandbox and browser tests each start real processes.
		maxWorkers: 2,
	},
});
