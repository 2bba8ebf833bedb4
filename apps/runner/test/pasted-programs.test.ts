import { describe, expect, it } from "vitest";
import { findJavaEntry } from "../src/languages/javaEntry.ts";
import { cutAtCharBoundary } from "../src/sandbox/box.ts";
import { stdinForProgram } from "../src/sandbox/executeJob.ts";
import { expectHostClean, KERNEL_COUNTED_LIMITS, run, TEST_RUN_LIMITS } from "./support/sandboxHarness.ts";

// RELIABILITY 40–42: programs and inputs as people paste them from judges.

// Each program prints "got:<line>" for every line of its stdin, reading line by line the way
// solutions usually do (the languages' line readers, not a whole-input read).
const LINE_READERS: Record<string, string> = {
	bash: 'while read line; do echo "got:$line"; done\n',
	python: "import sys\nfor line in sys.stdin:\n    print('got:' + line.rstrip('\\n'))\n",
	javascript:
		"const rl = require('node:readline').createInterface({ input: process.stdin });\nrl.on('line', (l) => console.log('got:' + l));\n",
	typescript:
		"import { createInterface } from 'node:readline';\nconst rl = createInterface({ input: process.stdin });\nrl.on('line', (l: string) => console.log('got:' + l));\n",
	c: '#include <stdio.h>\nint main(void){char w[64];while(scanf("%63[^\\n]\\n",w)==1)printf("got:%s\\n",w);return 0;}\n',
	cpp: '#include <iostream>\n#include <string>\nint main(){std::string l;while(std::getline(std::cin,l))std::cout<<"got:"<<l<<"\\n";}\n',
	java: 'import java.io.*;\npublic class Main { public static void main(String[] a) throws IOException { BufferedReader r = new BufferedReader(new InputStreamReader(System.in)); String l; while ((l = r.readLine()) != null) System.out.println("got:" + l); } }\n',
	go: 'package main\nimport ("bufio"; "fmt"; "os")\nfunc main() { s := bufio.NewScanner(os.Stdin); for s.Scan() { fmt.Println("got:" + s.Text()) } }\n',
	rust: 'use std::io::BufRead;\nfn main() { for l in std::io::stdin().lock().lines() { println!("got:{}", l.unwrap()); } }\n',
	ruby: "while (l = gets)\n  puts 'got:' + l.chomp\nend\n",
	php: '<?php\nwhile (($l = fgets(STDIN)) !== false) { echo \'got:\' . rtrim($l, "\\n") . "\\n"; }\n',
};

describe("RELIABILITY 41: stdin without a final newline", () => {
	it("adds a final newline only to non-empty input that lacks one", () => {
		expect(stdinForProgram("")).toBe("");
		expect(stdinForProgram("a\nb")).toBe("a\nb\n");
		expect(stdinForProgram("a\nb\n")).toBe("a\nb\n");
		expect(stdinForProgram("x\r\n")).toBe("x\r\n");
	});

	it("bash `while read` sees the last line of `a\\nb`", async () => {
		const result = await run("bash", LINE_READERS.bash as string, ["a\nb"], KERNEL_COUNTED_LIMITS);
		expect(result.status).toBe("ok");
		expect(result.runs[0]?.stdout).toBe("got:a\ngot:b\n");
		await expectHostClean();
	});

	it("a correct bash solution passes a test whose stdin `1\\n2` has no final newline", async () => {
		// Tests run as the job's inputs: every input goes through the same delivery.
		const sum = "s=0\nwhile read n; do s=$((s + n)); done\necho $s\n";
		const result = await run("bash", sum, ["1\n2", "3\n4\n", ""], KERNEL_COUNTED_LIMITS);
		expect(result.runs.map((r) => r.stdout)).toEqual(["3\n", "7\n", "0\n"]);
		expect(result.status).toBe("ok");
	});

	for (const [language, code] of Object.entries(LINE_READERS)) {
		it(`${language} reads every line of input without a final newline`, async () => {
			const result = await run(language, code, ["first line\nlast line"], KERNEL_COUNTED_LIMITS);
			expect(result.status, JSON.stringify(result)).toBe("ok");
			expect(result.runs[0]?.stdout).toBe("got:first line\ngot:last line\n");
		});
	}
});

describe("RELIABILITY 42: Java classes as pasted from judges", () => {
	const stdinEcho = (decl: string, name: string) =>
		`import java.util.*;\n${decl} ${name} {\n  public static void main(String[] args) {\n    Scanner in = new Scanner(System.in);\n    System.out.println("${name}:" + in.nextInt() * 2);\n  }\n}\n`;

	it("finds the file and class from the source, ignoring comments and strings", () => {
		expect(findJavaEntry(stdinEcho("public class", "Solution"))).toEqual({
			sourceFile: "Solution.java",
			mainClass: "Solution",
		});
		expect(findJavaEntry(stdinEcho("class", "Solution"))).toEqual({
			sourceFile: "Solution.java",
			mainClass: "Solution",
		});
		const tricky = [
			"// public class Fake { public static void main(String[] a) {} }",
			"/* class Other */ class Helper { String s = \"class Nope { static void main(\"; char c = '{'; }",
			"final class Solution {",
			"  static class Inner { public static void main(String[] a) {} }",
			"  public static void main(final String... args) { System.out.println(Helper.class); }",
			"}",
		].join("\n");
		expect(findJavaEntry(tricky)).toEqual({ sourceFile: "Solution.java", mainClass: "Solution" });
		expect(findJavaEntry("package a.b;\npublic class P { public static void main(String[] x) {} }")).toEqual({
			sourceFile: "P.java",
			mainClass: "a.b.P",
		});
		// A public helper type and a non-public class with main: javac wants the public one's file name.
		expect(findJavaEntry("public class Util {}\nclass Runner { public static void main(String[] a) {} }\n")).toEqual({
			sourceFile: "Util.java",
			mainClass: "Runner",
		});
		expect(findJavaEntry("class A {}")).toEqual({ sourceFile: "A.java", mainClass: "A" });
	});

	for (const [decl, name] of [
		["public class", "Solution"],
		["class", "Solution"],
		["final class", "Main"],
		["public final class", "Program"],
	] as const) {
		it(`runs \`${decl} ${name}\` with main`, async () => {
			const result = await run("java", stdinEcho(decl, name), ["21"], KERNEL_COUNTED_LIMITS);
			expect(result.status, JSON.stringify(result)).toBe("ok");
			expect(result.runs[0]?.stdout).toBe(`${name}:42\n`);
		});
	}

	it("runs the class with main when a helper class comes first and a package is declared", async () => {
		const code =
			'package judge;\nclass Helper { static int twice(int x) { return 2 * x; } }\npublic class Solution {\n  public static void main(String[] a) { System.out.println("p:" + Helper.twice(new java.util.Scanner(System.in).nextInt())); }\n}\n';
		const result = await run("java", code, ["5"], KERNEL_COUNTED_LIMITS);
		expect(result.status, JSON.stringify(result)).toBe("ok");
		expect(result.runs[0]?.stdout).toBe("p:10\n");
		await expectHostClean();
	});
});

describe("RELIABILITY 40: output cut at a limit", () => {
	it("never ends a cut in the middle of a UTF-8 character", () => {
		const euro = Buffer.from("ab€", "utf8"); // 61 62 e2 82 ac
		expect(cutAtCharBoundary(euro.subarray(0, 4)).toString("utf8")).toBe("ab");
		expect(cutAtCharBoundary(euro.subarray(0, 3)).toString("utf8")).toBe("ab");
		expect(cutAtCharBoundary(euro).toString("utf8")).toBe("ab€");
		const emoji = Buffer.from("x😀", "utf8"); // 78 f0 9f 98 80
		for (let n = 1; n <= 4; n++)
			expect(cutAtCharBoundary(emoji.subarray(0, 1 + n)).toString()).toBe(n === 4 ? "x😀" : "x");
		expect(cutAtCharBoundary(Buffer.from("plain"))).toEqual(Buffer.from("plain"));
	});

	for (const [label, char] of [
		["3-byte", "€"],
		["4-byte", "😀"],
		["2-byte after one ASCII byte", "é"],
	] as const) {
		it(`cuts a flood of ${label} characters on a boundary and names the limit`, async () => {
			const prefix = label.includes("ASCII") ? "x" : "";
			const code = `import sys\nsys.stdout.write(${JSON.stringify(prefix)})\nwhile True:\n    sys.stdout.write(${JSON.stringify(char)} * 4096)\n`;
			const result = await run("python", code, [""], KERNEL_COUNTED_LIMITS);
			const out = result.runs[0];
			expect(result.status).toBe("output_limit");
			expect(out?.truncated).toBe(true);
			expect(out?.outputLimitBytes).toBe(TEST_RUN_LIMITS.outputBytes);
			const bytes = Buffer.byteLength(out?.stdout ?? "");
			expect(bytes).toBeLessThanOrEqual(TEST_RUN_LIMITS.outputBytes);
			expect(bytes).toBeGreaterThan(TEST_RUN_LIMITS.outputBytes - 4);
			expect(out?.stdout).not.toContain("\uFFFD");
			expect(out?.stdout.replace(prefix, "").replaceAll(char, "")).toBe("");
		});
	}
});
