// GET /openapi.json and GET /api-docs (issue 14): the OpenAPI document is generated from the
// registered routes and lists every `METHOD /path` that CONTRACT.md names.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRouteGroup } from "../src/runs/runRouteGroup.ts";
import { type RunningServer, startTestServer } from "./support/testServer.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The newest CONTRACT: the shared copy when present (it leads), else the repository's. */
const CONTRACT = [
	path.resolve(HERE, "../../../../shared/CONTRACT.md"),
	"/work/shared/CONTRACT.md",
	path.resolve(HERE, "../../../CONTRACT.md"),
].find((p) => existsSync(p)) as string;

/** `METHOD /path` with every `{name}` written `{}`: parameter names are not part of the wire interface. */
function shape(route: string): string {
	return route.replace(/\{[^}]*\}/g, "{}");
}

/** Every `METHOD /path` CONTRACT.md mentions, with {param} placeholders as OpenAPI writes them. */
function contractRoutes(): string[] {
	const text = readFileSync(CONTRACT, "utf8");
	const found = new Set<string>();
	for (const m of text.matchAll(/\b(GET|POST|PUT|PATCH|DELETE) (\/[A-Za-z0-9{}/_.-]*)/g)) {
		found.add(`${m[1]} ${(m[2] as string).replace(/\/$/, "") || "/"}`);
	}
	return [...found].sort();
}

let s: RunningServer;
beforeAll(async () => {
	// The route groups main.ts registers (the run routes without a queue answer 503, but exist).
	s = await startTestServer(
		{},
		{ routes: [runRouteGroup({ queue: null, unavailableReason: "no runner in this test" })] },
	);
});
afterAll(async () => {
	await s?.close();
});

describe("OpenAPI document", () => {
	it("GET /openapi.json is OpenAPI 3.1 and holds every route CONTRACT.md names", async () => {
		const res = await fetch(`${s.url}/openapi.json`);
		expect(res.status).toBe(200);
		const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
		expect(doc.openapi).toBe("3.1.0");
		const inDoc = new Set(
			Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => shape(`${m.toUpperCase()} ${p}`))),
		);
		const routes = contractRoutes();
		expect(routes.length).toBeGreaterThan(10);
		expect(routes.filter((r) => !inDoc.has(shape(r)))).toEqual([]);
		// Path parameters are declared, as OpenAPI requires.
		const op = doc.paths["/session/{sessionId}"]?.get as { parameters?: { name: string; in: string }[] };
		expect(op.parameters).toContainEqual(expect.objectContaining({ name: "sessionId", in: "path" }));
	});

	it("GET /api-docs is a reference page listing the operations", async () => {
		const res = await fetch(`${s.url}/api-docs`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toContain("text/html");
		const html = await res.text();
		expect(html).toContain("/openapi.json");
		expect(html).toContain("<code>/session/{sessionId}</code>");
	});
});
