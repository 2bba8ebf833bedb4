// `npm test`: lint, types, the editor build, then every Vitest suite (unit, integration against the
// machine's Postgres and Redis, sandbox, browser end-to-end, benchmark smoke). Every step runs, so one
// report shows every failure; the exit code is non-zero if any step failed.
import { spawnSync } from "node:child_process";

const steps: [string, string[]][] = [
	["biome", ["check", "."]],
	["tsc", ["-p", "tsconfig.json", "--noEmit"]],
	["npm", ["run", "build", "-w", "@tandem/editor"]],
	["vitest", ["run", ...process.argv.slice(2)]],
];

const failed: string[] = [];
for (const [cmd, args] of steps) {
	const name = `${cmd} ${args.join(" ")}`;
	console.log(`\n▶ ${name}`);
	const started = Date.now();
	const result = spawnSync(cmd, args, { stdio: "inherit" });
	const seconds = ((Date.now() - started) / 1000).toFixed(1);
	if (result.status === 0) {
		console.log(`✔ ${name} (${seconds}s)`);
	} else {
		console.error(`✖ ${name} failed after ${seconds}s (exit ${result.status ?? result.signal})`);
		failed.push(name);
	}
}
if (failed.length > 0) {
	console.error(`\n✖ ${failed.length} step(s) failed: ${failed.join("; ")}`);
	process.exit(1);
}
console.log("\n✔ all tests passed");
