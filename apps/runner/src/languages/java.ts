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
	compile: (limits) => ({
		argv: [
			"/bin/sh",
			"-c",
			'mkdir classes && /usr/bin/javac "$@" -encoding UTF-8 -d classes Main.java && tar -C classes -cf /box/app.tar .',
			"javac",
			...jvmFlags(limits, "-J"),
		],
		artifact: "/box/app.tar",
	}),
	runArtifact: "/box/app.tar",
	run: (limits) => [
		"/bin/sh",
		"-c",
		'mkdir classes && tar -xf app.tar -C classes && exec /usr/bin/java "$@" -cp classes Main',
		"java",
		...jvmFlags(limits, ""),
	],
	binds: () => etcBinds("java-"),
	isOutOfMemory: (o) => /java\.lang\.OutOfMemoryError/.test(o.stderr),
};
