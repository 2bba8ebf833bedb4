// Offline validation of deploy/: every Kustomize overlay renders with `kubectl kustomize`, every
// object validates against the Kubernetes (kubernetes-models) or KEDA (@kubernetes-models/keda)
// schema, every variable of the .env.example files is configured or listed below with a reason, the
// probes and the collab hash are where the balancers expect them, and the shipped HAProxy and nginx
// configurations pass `haproxy -c` and `nginx -t`.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OVERLAYS = ["production", "local"] as const;

/** A rendered Kubernetes object (only the fields the checks read are typed). */
interface K8sObject {
	apiVersion: string;
	kind: string;
	metadata: { name: string; annotations?: Record<string, string> };
	data?: Record<string, string>;
	stringData?: Record<string, string>;
	spec?: Record<string, unknown>;
}
interface Container {
	name: string;
	env?: { name: string }[];
	readinessProbe?: { httpGet?: { path: string } };
	livenessProbe?: { httpGet?: { path: string } };
	securityContext?: { allowPrivilegeEscalation?: boolean; privileged?: boolean; capabilities?: { add?: string[] } };
}

/** Variables of an .env.example deliberately absent from the manifests: [app, variable, reason]. */
const INTENTIONALLY_UNSET: readonly [string, string, string][] = [
	["sync-server", "DATA_DIR", "PGlite's folder; the cluster sets DATABASE_URL (Postgres) instead"],
	["sync-server", "DATABASE_SCHEMA", "the connection's search_path (public) is used"],
	["sync-server", "EDITOR_DIST", "the image keeps the built editor at the default apps/editor/dist"],
	["sync-server", "ALLOWED_ORIGINS", "the editor is served from the same origin as the API"],
	["sync-server", "ICE_STUN_URLS", "no STUN/TURN server is part of the base; an overlay adds one"],
	["sync-server", "TURN_URLS", "no STUN/TURN server is part of the base; an overlay adds one"],
	["sync-server", "TURN_SECRET", "required only with TURN_URLS; an overlay's Secret adds it"],
	["runner", "RUNNER_RUN_CPU_SECONDS", "limit overrides may only tighten the defaults; the defaults are kept"],
	["runner", "RUNNER_RUN_WALL_MS", "limit overrides may only tighten the defaults; the defaults are kept"],
	["runner", "RUNNER_RUN_MEMORY_MB", "limit overrides may only tighten the defaults; the defaults are kept"],
	["runner", "RUNNER_RUN_PIDS", "limit overrides may only tighten the defaults; the defaults are kept"],
	["runner", "RUNNER_RUN_OUTPUT_BYTES", "limit overrides may only tighten the defaults; the defaults are kept"],
	["runner", "RUNNER_COMPILE_WALL_MS", "limit overrides may only tighten the defaults; the defaults are kept"],
	["runner", "RUNNER_COMPILE_MEMORY_MB", "limit overrides may only tighten the defaults; the defaults are kept"],
	["runner", "RUNNER_BOX_UID_BASE", "one runner per pod: the default uid range is free inside it"],
	["runner", "RUNNER_BOX_UIDS", "one runner per pod: the default uid range is free inside it"],
];

function render(overlay: string): K8sObject[] {
	const out = execFileSync("kubectl", ["kustomize", path.join(ROOT, "deploy/kubernetes/overlays", overlay)], {
		encoding: "utf8",
		stdio: ["ignore", "pipe", "pipe"],
	});
	return parseAllDocuments(out).map((d) => {
		if (d.errors.length > 0) throw new Error(`${overlay}: YAML error ${d.errors[0]?.message}`);
		return d.toJS() as K8sObject;
	});
}

/** The kubernetes-models module for an apiVersion ("v1" → core; "keda.sh/…" → the KEDA package). */
async function modelModule(apiVersion: string): Promise<Record<string, unknown>> {
	const spec = apiVersion.startsWith("keda.sh/")
		? `@kubernetes-models/keda/${apiVersion}`
		: `kubernetes-models/${apiVersion}`;
	try {
		return (await import(spec)) as Record<string, unknown>;
	} catch {
		throw new Error(`no schema for apiVersion ${apiVersion}`);
	}
}

/** Validate one object against its schema; throws with the schema's words for an invalid or unknown one. */
async function validateObject(obj: K8sObject): Promise<void> {
	const Model = (await modelModule(obj.apiVersion))[obj.kind] as
		| (new (
				data: unknown,
		  ) => { validate(): void })
		| undefined;
	if (typeof Model !== "function") throw new Error(`unknown kind ${obj.apiVersion} ${obj.kind}`);
	// kustomize wraps long base64 values of a Secret over lines; the API server's decoder (Go's
	// encoding/base64) skips newlines, the schema's "byte" format does not: compare them unwrapped.
	const data = obj.data && obj.kind === "Secret" ? { data: unwrapBase64(obj.data) } : {};
	new Model({ ...obj, ...data }).validate();
}

function unwrapBase64(data: Record<string, string>): Record<string, string> {
	return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.replace(/[\r\n]/g, "")]));
}

function containersOf(obj: K8sObject): Container[] {
	const spec = obj.spec as { template?: { spec?: { containers?: Container[] } } } | undefined;
	return spec?.template?.spec?.containers ?? [];
}

function envExampleVariables(file: string): string[] {
	const names = new Set<string>();
	for (const line of readFileSync(path.join(ROOT, file), "utf8").split("\n")) {
		const m = /^#?\s*([A-Z][A-Z0-9_]+)=/.exec(line);
		if (m?.[1]) names.add(m[1]);
	}
	return [...names];
}

const rendered = new Map(OVERLAYS.map((o) => [o, render(o)]));

describe.each(OVERLAYS)("deploy/kubernetes/overlays/%s", (overlay) => {
	const objects = rendered.get(overlay) ?? [];
	const byKind = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

	it("renders and every object validates against its schema (unknown kinds fail)", async () => {
		expect(objects.length).toBeGreaterThan(5);
		const problems: string[] = [];
		for (const obj of objects) {
			try {
				await validateObject(obj);
			} catch (e: unknown) {
				problems.push(`${obj.kind}/${obj.metadata?.name}: ${e instanceof Error ? e.message : String(e)}`);
			}
		}
		expect(problems).toEqual([]);
	});

	it("passes the API server's rules the schema does not carry (CAP_SYS_ADMIN needs allowPrivilegeEscalation)", () => {
		for (const obj of objects) {
			for (const c of containersOf(obj)) {
				const sc = c.securityContext;
				if (sc?.allowPrivilegeEscalation === false) {
					expect(sc.privileged, `${obj.metadata.name}/${c.name}`).not.toBe(true);
					expect(sc.capabilities?.add ?? [], `${obj.metadata.name}/${c.name}`).not.toContain("SYS_ADMIN");
				}
			}
		}
	});

	it("configures every .env.example variable or lists it as intentionally unset with a reason", () => {
		const config = byKind("ConfigMap", objects.find((o) => o.kind === "ConfigMap")?.metadata.name ?? "");
		const secret = objects.find((o) => o.kind === "Secret");
		expect(config).toBeDefined();
		expect(secret).toBeDefined();
		const shared = new Set([
			...Object.keys(config?.data ?? {}),
			...Object.keys(secret?.data ?? {}),
			...Object.keys(secret?.stringData ?? {}),
		]);
		const missing: string[] = [];
		for (const [app, deployment] of [
			["sync-server", "sync-server"],
			["runner", "runner"],
		] as const) {
			const d = byKind("Deployment", deployment);
			expect(d, deployment).toBeDefined();
			const own = new Set(containersOf(d as K8sObject).flatMap((c) => (c.env ?? []).map((e) => e.name)));
			for (const name of envExampleVariables(`apps/${app}/.env.example`)) {
				const unset = INTENTIONALLY_UNSET.find(([a, n]) => a === app && n === name);
				if (unset) {
					expect(unset[2].length, `${app} ${name}: reason`).toBeGreaterThan(10);
					expect(shared.has(name) || own.has(name), `${app} ${name} is listed as unset but is set`).toBe(false);
					continue;
				}
				if (!shared.has(name) && !own.has(name)) missing.push(`${app}: ${name}`);
			}
		}
		expect(missing).toEqual([]);
	});

	it("probes readiness on /readyz and liveness on /livez", () => {
		for (const name of ["sync-server", "runner"]) {
			const d = byKind("Deployment", name);
			for (const c of containersOf(d as K8sObject)) {
				expect(c.readinessProbe?.httpGet?.path, name).toBe("/readyz");
				expect(c.livenessProbe?.httpGet?.path, name).toBe("/livez");
			}
		}
	});

	it("sends /collab/ through an Ingress that hashes on the URI", () => {
		const collab = objects.filter((o) => {
			const rules = (o.spec?.rules ?? []) as { http?: { paths?: { path: string }[] } }[];
			return o.kind === "Ingress" && rules.some((r) => r.http?.paths?.some((p) => p.path.startsWith("/collab")));
		});
		expect(collab.length).toBe(1);
		expect(collab[0]?.metadata.annotations?.["nginx.ingress.kubernetes.io/upstream-hash-by"]).toBe("$uri");
	});

	it("scales runners with KEDA on the queued runs the sync-servers report (ranked jobs are not in BullMQ's wait list)", () => {
		const scaled = byKind("ScaledObject", "runner");
		const trigger = (scaled?.spec?.triggers as { type: string; metadata: Record<string, string> }[] | undefined)?.[0];
		expect(trigger?.type).toBe("prometheus");
		expect(trigger?.metadata.query).toBe('sum(tandem_runs{state="queued"})');
	});
});

describe("load balancer configurations", () => {
	const dirs: string[] = [];
	afterAll(() => {
		for (const d of dirs) rmSync(d, { recursive: true, force: true });
	});

	it("haproxy -c accepts deploy/haproxy/haproxy.cfg", () => {
		const r = spawnSync("haproxy", ["-c", "-f", path.join(ROOT, "deploy/haproxy/haproxy.cfg")], {
			encoding: "utf8",
			env: {
				...process.env,
				SYNC_NODE_1: "127.0.0.1:9001",
				SYNC_NODE_2: "127.0.0.1:9002",
				SYNC_NODE_3: "127.0.0.1:9003",
			},
		});
		if (r.error) throw new Error(`haproxy is not installed (scripts/setup-system.sh): ${r.error.message}`);
		expect(r.status, r.stderr + r.stdout).toBe(0);
	});

	it("nginx -t accepts deploy/nginx/nginx.conf", async () => {
		const dir = mkdtempSync(path.join(tmpdir(), "tandem-nginx-"));
		dirs.push(dir);
		writeFileSync(
			path.join(dir, "nginx.conf"),
			readFileSync(path.join(ROOT, "deploy/nginx/nginx.conf"), "utf8")
				// Listen on a port of our own; the check binds nothing, but keep it clear of a running proxy.
				.replace("listen 127.0.0.1:8080;", "listen 127.0.0.1:18080;"),
		);
		writeFileSync(
			path.join(dir, "sync-nodes.conf"),
			"server 127.0.0.1:9001 max_fails=1 fail_timeout=5s;\nserver 127.0.0.1:9002 max_fails=1 fail_timeout=5s;\n",
		);
		await mkdir(path.join(dir, "tmp"), { recursive: true });
		const r = spawnSync("nginx", ["-t", "-q", "-p", dir, "-c", path.join(dir, "nginx.conf"), "-e", "stderr"], {
			encoding: "utf8",
		});
		if (r.error) throw new Error(`nginx is not installed (scripts/setup-system.sh): ${r.error.message}`);
		expect(r.status, r.stderr + r.stdout).toBe(0);
	});
});
