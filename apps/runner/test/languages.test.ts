import { describe, expect, it } from "vitest";
import { listLanguages } from "../src/languages/index.ts";
import { expectHostClean, run } from "./support/sandboxHarness.ts";

interface Case {
	readonly echo: string;
	readonly broken: string;
	readonly crash: string;
}

// Each echo program prints "<id>:" and the first stdin word; broken does not compile or parse; crash fails at run time.
const CASES: Record<string, Case> = {
	python: {
		echo: "import sys\nprint('python:' + sys.stdin.read().split()[0])\n",
		broken: "def f(:\n  pass\n",
		crash: "print('before')\nraise ValueError('boom')\n",
	},
	javascript: {
		echo: "const s = require('node:fs').readFileSync(0, 'utf8');\nconsole.log('javascript:' + s.split(/\\s+/)[0]);\n",
		broken: "function (\n",
		crash: "console.log('before');\nnull.x;\n",
	},
	typescript: {
		echo: "import { readFileSync } from 'node:fs';\nconst s: string = readFileSync(0, 'utf8');\nconsole.log('typescript:' + s.split(/\\s+/)[0]);\n",
		broken: "let x: number = ;\n",
		crash: "console.log('before');\nconst o: { x?: { y: number } } = {};\nconsole.log(o.x!.y);\n",
	},
	c: {
		echo: '#include <stdio.h>\nint main(void){char w[64];if(scanf("%63s",w)!=1)return 1;printf("c:%s\\n",w);return 0;}\n',
		broken: "int main(void){ return x; }\n",
		crash: '#include <stdio.h>\nint main(void){puts("before");fflush(stdout);int *p=0;return *p;}\n',
	},
	cpp: {
		echo: '#include <iostream>\n#include <string>\nint main(){std::string w;std::cin>>w;std::cout<<"cpp:"<<w<<"\\n";}\n',
		broken: "int main(){ undefined_call(); }\n",
		crash: '#include <stdexcept>\nint main(){throw std::runtime_error("boom");}\n',
	},
	java: {
		echo: 'import java.util.Scanner;\npublic class Main { public static void main(String[] a) { System.out.println("java:" + new Scanner(System.in).next()); } }\n',
		broken: "public class Main { void f( }\n",
		crash: 'public class Main { public static void main(String[] a) { throw new RuntimeException("boom"); } }\n',
	},
	go: {
		echo: 'package main\nimport "fmt"\nfunc main() { var w string; fmt.Scan(&w); fmt.Println("go:" + w) }\n',
		broken: "package main\nfunc main() { x := }\n",
		crash: 'package main\nfunc main() { panic("boom") }\n',
	},
	rust: {
		echo: 'use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap(); println!("rust:{}", s.split_whitespace().next().unwrap()); }\n',
		broken: 'fn main() { let x: i32 = "no"; }\n',
		crash: 'fn main() { let v: Vec<i32> = Vec::new(); println!("{}", v[3]); }\n',
	},
	ruby: {
		echo: "puts 'ruby:' + STDIN.read.split.first\n",
		broken: "def f(\n",
		crash: "puts 'before'\nraise 'boom'\n",
	},
	php: {
		echo: "<?php\n$w = preg_split('/\\s+/', trim(stream_get_contents(STDIN)))[0];\necho 'php:' . $w . \"\\n\";\n",
		broken: "<?php\nfunction ( {\n",
		crash: "<?php\necho \"before\\n\";\nthrow new Exception('boom');\n",
	},
	bash: {
		echo: 'read -r w\necho "bash:$w"\n',
		broken: "if then fi (\n",
		crash: "echo before\nexit 3\n",
	},
};

describe("languages", () => {
	it("lists every language whose toolchain is installed here, with a version", async () => {
		const langs = await listLanguages();
		expect(langs.map((l) => l.id).sort()).toEqual(Object.keys(CASES).sort());
		for (const l of langs) expect(l.version).toMatch(/^\d+\.\d+/);
		expect(await listLanguages()).toBe(langs);
	});

	for (const [id, c] of Object.entries(CASES)) {
		describe(id, () => {
			it("reads stdin and prints, each input in its own run", async () => {
				const result = await run(id, c.echo, ["alpha\n", "beta\n"]);
				expect(result.status, JSON.stringify(result)).toBe("ok");
				expect(result.runs.map((r) => r.stdout.trim())).toEqual([`${id}:alpha`, `${id}:beta`]);
				expect(result.runs.every((r) => r.exitCode === 0 && r.status === "ok")).toBe(true);
				await expectHostClean();
			});

			it("reports a compile or syntax error as compile_error with the message", async () => {
				const result = await run(id, c.broken, ["x\n"]);
				expect(result.status, JSON.stringify(result)).toBe("compile_error");
				expect(result.compile?.status).toBe("compile_error");
				expect(result.compile?.output.length).toBeGreaterThan(0);
				expect(result.runs).toEqual([]);
				await expectHostClean();
			});

			it("reports a crash as runtime_error", async () => {
				const result = await run(id, c.crash, ["x\n"]);
				expect(result.status, JSON.stringify(result)).toBe("runtime_error");
				expect(result.runs[0]?.status).toBe("runtime_error");
				expect(result.runs[0]?.exitCode === 0 && result.runs[0]?.signal == null).toBe(false);
				await expectHostClean();
			});
		});
	}

	it("refuses source larger than the file size limit with a clear compile_error", async () => {
		const result = await run("python", `# ${"x".repeat(9 * 1024 * 1024)}\nprint(1)\n`);
		expect(result.status).toBe("compile_error");
		expect(result.compile?.output).toContain("larger than the file size limit");
		expect(result.runs).toEqual([]);
	});

	it("reports an unknown language as internal_error without running anything", async () => {
		const result = await run("cobol", "DISPLAY 'x'.");
		expect(result.status).toBe("internal_error");
		expect(result.compile?.output).toContain("cobol");
		expect(result.runs).toEqual([]);
	});
});
