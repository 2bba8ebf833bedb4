import { LANGUAGES } from "@tandem/crdt-schema";
import { describe, expect, it } from "vitest";
import { languageDescriptionFor } from "./languageNames.ts";

describe("languageDescriptionFor", () => {
	it("finds a highlighter for every session language", () => {
		for (const language of LANGUAGES) {
			expect(languageDescriptionFor(language.id), language.id).not.toBeNull();
		}
	});

	it("maps ids to the right language-data entries", () => {
		expect(languageDescriptionFor("bash")?.name).toBe("Shell");
		expect(languageDescriptionFor("cpp")?.name).toBe("C++");
		expect(languageDescriptionFor("c")?.name).toBe("C");
		expect(languageDescriptionFor("python")?.name).toBe("Python");
		expect(languageDescriptionFor("typescript")?.name).toBe("TypeScript");
	});

	it("returns null for an unknown language", () => {
		expect(languageDescriptionFor("brainfuck-9000")).toBeNull();
	});
});
