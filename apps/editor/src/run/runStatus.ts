/** A run's state or status in words, for people (CONTRACT status ids are for programs). */
export function statusInWords(status: string): string {
	switch (status) {
		case "queued":
			return "Queued";
		case "running":
			return "Running";
		case "ok":
			return "OK";
		case "passed":
			return "Passed";
		case "wrong_answer":
			return "Wrong answer";
		case "compile_error":
			return "Compile error";
		case "runtime_error":
			return "Runtime error";
		case "timeout":
			return "Time-out (time limit exceeded)";
		case "memory_limit":
			return "Memory limit exceeded";
		case "output_limit":
			return "Output limit exceeded";
		case "internal_error":
			return "Internal error in the runner";
		case "failed":
			return "Failed: the run did not finish";
		case "not_passed":
			return "Not passed (details hidden)";
		default:
			return status.replace(/_/g, " ");
	}
}

/** Parse a stateless payload of the given type ("run" or "tests"), or null for anything else. */
export function parseMessage<T extends { type: string }>(payload: string, type: T["type"]): T | null {
	try {
		const value = JSON.parse(payload) as unknown;
		if (typeof value === "object" && value !== null && (value as { type?: unknown }).type === type) return value as T;
	} catch {
		// Not JSON: another feature's message.
	}
	return null;
}
