// `npm test`: lint, types, then every Vitest suite (unit, integration against the machine's Postgres and
// Redis, sandbox, browser end-to-end, benchmark smoke). Fails on the first failing step.
import { spawnSync } from "node:child_process";

const steps: [string, string[]][] = [
	["biome", ["check", "."]],
	["tsc", ["-p", "tsconfig.json", "--noEmit"]],
	["npm", ["run", "build", "-w", "@tandem/editor"]],
	["vitest", ["run", ...process.argv.slice(2)]],
];

for (const [cmd, args] of steps) {
	console.log(`\n▶ ${cmd} ${args.join(" ")}`);
	const started = Date.now();
	const result = spawnSync(cmd, args, { stdio: "inherit" });
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	if (result.status !== 0) {
		console.error(`✖ ${cmd} failed after ${seconds}s (exit ${result.status ?? result.signal})`);
		process.exit(result.status ?? 1);
	}
	console.log(`✔ ${cmd} ${seconds}s`);
}
