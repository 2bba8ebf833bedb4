import { findJavaEntry } from "./javaEntry.ts";
import { heapMb, type Language } from "./Language.ts";
import { etcBinds, findExecutable } from "./toolchain.ts";

// The JVM cannot see the cgroup from inside the box (no /sys), so heap, GC threads and stacks are
// set explicitly: below the memory limit and far below the pids limit.
const jvmFlags = (limits: Parameters<typeof heapMb>[0], prefix: string) =>
	[
		`-Xmx${heapMb(limits, 0.5)}m`,
		"-Xss8m",
		"-XX:+UseSerialGC",
		"-XX:ActiveProcessorCount=1",
		"-XX:TieredStopAtLevel=1",
		"-Xshare:auto",
	].map((f) => prefix + f);

export const java: Language = {
	id: "java",
	name: "Java",
	sourceFile: "Main.java",
	toolchain: () => findExecutable("/usr/bin/javac") && findExecutable("/usr/bin/java"),
	versionProbe: () => ["/usr/bin/javac", "-version"],
	// The file is named after the public class (javac requires it) and the class with main is run.
	entryOf: findJavaEntry,
	compile: (limits, entry) => ({
		argv: [
			"/bin/sh",
			"-c",
			'src=$1; shift; mkdir classes && /usr/bin/javac "$@" -encoding UTF-8 -d classes "$src" && tar -C classes -cf /box/app.tar .',
			"javac",
			entry.sourceFile,
			...jvmFlags(limits, "-J"),
		],
		artifact: "/box/app.tar",
	}),
	runArtifact: "/box/app.tar",
	run: (limits, entry) => [
		"/bin/sh",
		"-c",
		'main=$1; shift; mkdir classes && tar -xf app.tar -C classes && exec /usr/bin/java "$@" -cp classes "$main"',
		"java",
		entry.mainClass ?? "Main",
		...jvmFlags(limits, ""),
	],
	binds: () => etcBinds("java-"),
	isOutOfMemory: (o) => /java\.lang\.OutOfMemoryError/.test(o.stderr),
};
