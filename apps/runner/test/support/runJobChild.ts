// A runner process for tests that must kill it or start it with inherited descriptors:
// `RUN_JOB_CODE=<code> node runJobChild.ts <language>` runs one job under TEST_LIMITS and prints the result
// as JSON. The code comes through the environment so the runner's own command line never matches a marker.
import { closeWarmBoxes } from "../../src/sandbox/box.ts";
import { run } from "./sandboxHarness.ts";

const language = process.argv[2];
const code = process.env.RUN_JOB_CODE;
if (!language || code === undefined) throw new Error("usage: RUN_JOB_CODE=<code> runJobChild.ts <language>");
const result = await run(language, code);
await closeWarmBoxes();
process.stdout.write(`${JSON.stringify(result)}\n`);
