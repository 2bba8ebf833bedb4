import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readIceConfig } from "../src/call/iceConfig.ts";
import { SignalFlood as ReExportedFlood } from "../src/call/SignallingExtension.ts";
import * as closeEvents from "../src/collab/closeEvents.ts";
import { loadConfig } from "../src/config.ts";

const APP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SRC = path.join(APP, "src");

function sourceFiles(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
		const p = path.join(dir, e.name);
		if (e.isDirectory()) return sourceFiles(p);
		return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [p] : [];
	});
}

/** `NAME=value` and `# NAME=value` lines of .env.example. */
function documentedVariables(): Map<string, string | undefined> {
	const vars = new Map<string, string | undefined>();
	for (const line of readFileSync(path.join(APP, ".env.example"), "utf8").split("\n")) {
		const m = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
		if (m?.[2]) vars.set(m[2], m[1] ? undefined : m[3]);
	}
	return vars;
}

describe("protocol close codes live in collab/closeEvents.ts", () => {
	it("holds the call signalling codes 4413 and 4429 next to the others, all distinct and frozen", () => {
		expect(closeEvents.SignalTooLarge).toEqual({ code: 4413, reason: "Call signal too large" });
		expect(closeEvents.SignalFlood).toEqual({ code: 4429, reason: "Call signalling rate exceeded" });
		// The call module re-exports the same objects rather than defining its own.
		expect(ReExportedFlood).toBe(closeEvents.SignalFlood);
		const events = Object.values(closeEvents).filter(
			(v): v is { code: number; reason: string } => typeof v === "object" && v !== null && "code" in v,
		);
		const codes = events.map((e) => e.code);
		expect(new Set(codes).size).toBe(codes.length);
		for (const e of events) expect(Object.isFrozen(e)).toBe(true);
	});

	it("no other source file defines a close code literal", () => {
		const offenders = sourceFiles(SRC)
			.filter((f) => !f.endsWith(path.join("collab", "closeEvents.ts")))
			.filter((f) => /\bcode:\s*(1\d{3}|4\d{3})\b/.test(readFileSync(f, "utf8")))
			.map((f) => path.relative(APP, f));
		expect(offenders).toEqual([]);
	});
});

describe(".env.example documents every variable", () => {
	it("names every variable config.ts and the ICE config read", () => {
		const documented = documentedVariables();
		const read = new Set<string>();
		for (const f of [path.join(SRC, "config.ts"), path.join(SRC, "call", "iceConfig.ts")]) {
			for (const m of readFileSync(f, "utf8").matchAll(/^\s*([A-Z][A-Z0-9_]+):\s*(z\.|urlList)/gm))
				read.add(m[1] as string);
			for (const m of readFileSync(f, "utf8").matchAll(/env\.([A-Z][A-Z0-9_]+)/g)) read.add(m[1] as string);
		}
		for (const name of ["ICE_STUN_URLS", "TURN_URLS", "TURN_URL", "TURN_SECRET", "TURN_TTL_S", "PORT"])
			expect(read).toContain(name);
		const missing = [...read].filter(
			(name) => !documented.has(name) && !readFileSync(path.join(APP, ".env.example"), "utf8").includes(name),
		);
		expect(missing).toEqual([]);
	});

	it("its uncommented values are valid as they stand", () => {
		const env = Object.fromEntries([...documentedVariables()].filter(([, v]) => v !== undefined)) as Record<
			string,
			string
		>;
		expect(() => loadConfig(env)).not.toThrow();
		expect(readIceConfig(env).turnTtlS).toBe(86_400);
		// The commented TURN example, switched on with a secret, is accepted too.
		const text = readFileSync(path.join(APP, ".env.example"), "utf8");
		const turnUrls = /^#\s*TURN_URLS=(.*)$/m.exec(text)?.[1] ?? "";
		const ice = readIceConfig({ ...env, TURN_URLS: turnUrls, TURN_SECRET: "0123456789abcdef0123" });
		expect(ice.turnUrls.length).toBe(2);
	});
});
