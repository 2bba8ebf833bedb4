import { LANGUAGES } from "@tandem/crdt-schema";
import { describe, expect, it } from "vitest";
import { languagePack } from "./languagePacks.ts";

describe("languagePack", () => {
	it("loads a highlighter for every session language", async () => {
		for (const language of LANGUAGES) {
			const load = languagePack(language.id);
			expect(load, language.id).not.toBeNull();
			const support = await load?.();
			expect(support?.language.name, language.id).toBeTruthy();
		}
	});

	it("maps ids to the right parsers", async () => {
		const name = async (id: string) => (await languagePack(id)?.())?.language.name;
		expect(await name("python")).toBe("python");
		expect(await name("typescript")).toBe("typescript");
		expect(await name("javascript")).toBe("javascript");
		expect(await name("cpp")).toBe("cpp");
		expect(await name("bash")).toBe("shell");
		expect(await name("ruby")).toBe("ruby");
	});

	it("returns null for an unknown language", () => {
		expect(languagePack("brainfuck-9000")).toBeNull();
		expect(languagePack("toString")).toBeNull();
	});
});
