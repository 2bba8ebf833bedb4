import { readStdin, setStdin, stdinText } from "@tandem/crdt-schema";
import { api, errorMessage } from "../api/apiClient.ts";
import { onConnectivity } from "../collab/connectivity.ts";
import { h, replaceChildren } from "../ui/dom.ts";
import type { SessionPanelContext } from "../ui/sessionPanels.ts";
import { parseMessage, statusInWords } from "./runStatus.ts";
import { terminalText } from "./terminalText.ts";
import "./run.css";

/** An ExecutionResult as the API answers it. */
interface ExecutionResult {
	readonly id: string;
	readonly output: string;
	readonly error: string;
	readonly executionTime: number;
	readonly status: string;
	readonly exitCode: number | null;
	readonly memoryKb?: number;
	readonly language: string;
	readonly submittedBy?: { id: string; name: string };
	/** Output or errors were cut at the server's size bound (1 MiB each). */
	readonly truncated?: boolean;
	/** The stdin the run read. */
	readonly stdin?: string;
}

interface RunMessage {
	readonly type: "run";
	readonly submissionId: string;
	readonly state: "queued" | "running" | "done" | "failed";
	readonly by?: { id: string; name: string };
	readonly result?: ExecutionResult;
	readonly error?: string;
}

/** How often a run this page started is polled in case its live messages are missed. */
const POLL_MS = 1500;

/**
 * The Run button (and Ctrl/Cmd+Enter), a Stdin box shared by everyone in the session (the
 * document's stdin, SPEC CS10) and the output of the session's latest run, whoever started it
 * (live from the server's "run" messages), with the stdin it read. Offline, for viewers and
 * for candidates once the interview ended, Run is disabled and says why.
 */
export function mountRunPanel(context: SessionPanelContext): () => void {
	const stdin = h("textarea", { id: "run-stdin", rows: 3, spellcheck: false });
	const runButton = h("button", { type: "button", title: "Run (Ctrl+Enter)" }, "Run");
	const offline = h("p", { class: "run-offline", role: "status", hidden: true });
	const summary = h("p", { class: "run-summary", role: "status", "aria-live": "polite" }, "No runs yet");
	const usedStdin = h("pre", { "aria-label": "Stdin of this run" });
	const usedStdinBlock = h("div", { hidden: true }, h("h3", null, "Stdin of this run"), usedStdin);
	const stdout = h("pre", { "aria-label": "Output" });
	const stderr = h("pre", { "aria-label": "Errors" });
	const output = h(
		"div",
		{ class: "run-output" },
		summary,
		usedStdinBlock,
		h("h3", null, "Output"),
		stdout,
		h("h3", null, "Errors"),
		stderr,
	);
	replaceChildren(
		context.slots.run,
		h(
			"div",
			{ class: "run-panel" },
			h("h2", null, "Run"),
			h("label", { for: "run-stdin" }, "Stdin"),
			stdin,
			h("div", { class: "run-actions" }, runButton, offline),
			output,
		),
	);

	const { doc } = context.session;
	const sharedStdin = stdinText(doc);
	stdin.value = readStdin(doc);
	const onSharedStdin = () => {
		const next = readStdin(doc);
		if (stdin.value !== next) stdin.value = next;
	};
	sharedStdin.observe(onSharedStdin);
	stdin.addEventListener("input", () => setStdin(doc, stdin.value));

	/** Why this person cannot run now, or null. */
	const refusal = (): string | null => {
		const role = currentRole();
		if (role === "viewer") return "Viewers cannot run code.";
		if (role === "editor" && context.ended()) return "The interview has ended: runs are off.";
		return null;
	};
	const currentRole = () => context.currentRole();
	let online = true;
	let pending = false;
	let shownId: string | null = null;
	let resultShownFor: string | null = null;
	// Runs replaced by a later one: their late messages are ignored.
	const superseded = new Set<string>();
	let pollTimer: ReturnType<typeof setTimeout> | undefined;
	const refreshButton = () => {
		const why = refusal();
		runButton.disabled = !online || pending || why !== null;
		stdin.readOnly = why !== null;
		offline.hidden = online && why === null;
		offline.textContent = online ? (why ?? "") : offline.textContent;
	};
	const stopAccess = context.onAccess(() => refreshButton());

	function show(id: string, state: string, by: { name: string } | undefined, result?: ExecutionResult): void {
		if (shownId !== null && shownId !== id) superseded.add(shownId);
		shownId = id;
		const who = by ? ` · started by ${by.name}` : "";
		if (!result) {
			summary.textContent = `${statusInWords(state)}${who}`;
			stdout.textContent = "";
			stderr.textContent = "";
			return;
		}
		const memory = result.memoryKb !== undefined ? ` · ${result.memoryKb} KB` : "";
		const exit = result.exitCode !== null && result.exitCode !== 0 ? ` · exit code ${result.exitCode}` : "";
		const cut = result.truncated ? " · output cut at 1 MiB" : "";
		summary.textContent = `${statusInWords(result.status)} · ${result.executionTime} ms${memory}${exit}${cut}${who}`;
		summary.dataset.status = result.status;
		resultShownFor = id;
		usedStdinBlock.hidden = result.stdin === undefined;
		usedStdin.textContent = result.stdin ?? "";
		// Shown as a terminal would; the raw text stays in the API and the stored result.
		stdout.textContent = terminalText(result.output);
		stderr.textContent = terminalText(result.error);
	}

	const onStateless = ({ payload }: { payload: string }) => {
		const message = parseMessage<RunMessage>(payload, "run");
		if (!message) return;
		if (superseded.has(message.submissionId)) return;
		if (message.state === "done" && message.result) {
			show(message.submissionId, "done", message.by, message.result);
		} else {
			show(message.submissionId, message.state, message.by);
			if (message.state === "failed" && message.error) stderr.textContent = terminalText(message.error);
		}
	};
	context.session.provider.on("stateless", onStateless);

	async function poll(id: string): Promise<void> {
		try {
			const answer = await api<{ status: string; result?: ExecutionResult }>("GET", `/submissions/${id}`);
			if (answer.status === "done" && answer.result) {
				if (shownId === id && resultShownFor !== id) show(id, "done", answer.result.submittedBy, answer.result);
				return;
			}
			if (answer.status === "failed") return;
		} catch {
			// A transient failure: keep polling; the live message may still arrive.
		}
		if (shownId === id) pollTimer = setTimeout(() => void poll(id), POLL_MS);
	}

	async function run(): Promise<void> {
		if (!online || pending || refusal() !== null) return;
		pending = true;
		refreshButton();
		try {
			const { submissionId } = await api<{ submissionId: string }>("POST", "/submit-code", {
				sessionId: context.sessionId,
				stdin: stdin.value,
			});
			// The live "queued" message may have come first; do not step back from a later state.
			if (shownId !== submissionId) show(submissionId, "queued", { name: context.user.username });
			clearTimeout(pollTimer);
			pollTimer = setTimeout(() => void poll(submissionId), POLL_MS);
		} catch (e: unknown) {
			summary.textContent = `Could not run: ${errorMessage(e)}`;
		} finally {
			pending = false;
			refreshButton();
		}
	}

	runButton.addEventListener("click", () => void run());
	const onKey = (event: KeyboardEvent) => {
		if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
			event.preventDefault();
			void run();
		}
	};
	context.editor.view.dom.addEventListener("keydown", onKey, true);
	stdin.addEventListener("keydown", onKey);

	const stopConnectivity = onConnectivity((state) => {
		online = state.online;
		offline.textContent = state.reason ?? "";
		runButton.title = state.reason ?? "Run (Ctrl+Enter)";
		refreshButton();
	});

	// The latest stored run, so a page opened later shows it.
	api<{ runs: ExecutionResult[] }>("GET", `/session/${context.sessionId}/runs`)
		.then(({ runs }) => {
			const latest = runs[0];
			if (latest && shownId === null) show(latest.id, "done", latest.submittedBy, latest);
		})
		.catch(() => {});

	return () => {
		clearTimeout(pollTimer);
		stopConnectivity();
		stopAccess();
		sharedStdin.unobserve(onSharedStdin);
		context.session.provider.off("stateless", onStateless);
		context.editor.view.dom.removeEventListener("keydown", onKey, true);
	};
}
