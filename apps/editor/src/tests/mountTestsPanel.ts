import { addTest, moveTest, readTests, removeTest, type TestCase, testsArray, updateTest } from "@tandem/crdt-schema";
import { api, errorMessage } from "../api/apiClient.ts";
import { onConnectivity } from "../collab/connectivity.ts";
import { parseMessage, statusInWords } from "../run/runStatus.ts";
import { h, replaceChildren } from "../ui/dom.ts";
import type { SessionPanelContext } from "../ui/sessionPanels.ts";
import "../run/run.css";
import { terminalText } from "../run/terminalText.ts";

interface TestView extends TestCase {
	readonly hidden: boolean;
}

interface TestResult {
	readonly testId: string;
	readonly name: string;
	readonly passed: boolean;
	readonly status: string;
	readonly output?: string;
	readonly expected?: string;
	readonly error?: string;
	readonly executionTime?: number;
	readonly diff?: string;
	/** Output, expected, errors or diff were cut to the server's size bounds. */
	readonly truncated?: boolean;
}

interface TestReport {
	readonly runId: string;
	readonly passed: number;
	readonly total: number;
	readonly results: readonly TestResult[];
	/** Says what was cut, when anything was. */
	readonly note?: string;
}

interface TestsMessage {
	readonly type: "tests";
	readonly runId: string;
	readonly state: "queued" | "running" | "progress" | "done" | "failed";
	readonly by?: { name: string };
	readonly completed?: number;
	readonly total?: number;
	readonly report?: TestReport;
	readonly error?: string;
}

let fieldCounter = 0;
function field(label: string, value: string, multiline: boolean, disabled: boolean, onChange: (v: string) => void) {
	const id = `test-field-${++fieldCounter}`;
	const input = multiline
		? h("textarea", { id, rows: 2, spellcheck: false, disabled })
		: h("input", { id, type: "text", disabled });
	input.value = value;
	input.addEventListener("change", () => onChange(input.value));
	return [h("label", { for: id }, label), input] as const;
}

/**
 * The Tests panel: visible tests edited in the shared document (add, edit, delete, reorder),
 * hidden tests managed through REST by the owner, and "Run tests" with progress and a verdict
 * per test, shown live to everyone in the session.
 */
export function mountTestsPanel(context: SessionPanelContext): () => void {
	const { doc } = context.session;
	// Owner and interviewers manage tests, hidden ones included; the server refuses anyone else's change.
	const isOwner = context.role === "owner" || context.role === "interviewer";
	const canEdit = isOwner;
	let hiddenTests: TestView[] = [];

	const list = h("ol", { class: "tests-list", "aria-label": "Test cases" });
	const addName = h("input", { id: "new-test-name", type: "text", disabled: !canEdit });
	const addStdin = h("textarea", { id: "new-test-stdin", rows: 2, disabled: !canEdit });
	const addExpected = h("textarea", { id: "new-test-expected", rows: 2, disabled: !canEdit });
	const addHidden = h("input", { id: "new-test-hidden", type: "checkbox" });
	const addButton = h("button", { type: "button", disabled: !canEdit }, "Add test");
	const runButton = h("button", { type: "button" }, "Run tests");
	const progress = h("p", { class: "run-summary", role: "status", "aria-live": "polite" });
	const offline = h("p", { class: "run-offline", hidden: true });
	const message = h("p", { role: "alert" });
	const results = h("ol", { class: "tests-results", "aria-label": "Test results" });

	replaceChildren(
		context.slots.tests,
		h(
			"div",
			{ class: "tests-panel" },
			h("h2", null, "Tests"),
			list,
			h(
				"div",
				{ class: "test-row", role: "group", "aria-label": "New test" },
				h("label", { for: "new-test-name" }, "Name"),
				addName,
				h("label", { for: "new-test-stdin" }, "Stdin"),
				addStdin,
				h("label", { for: "new-test-expected" }, "Expected output"),
				addExpected,
				isOwner && h("label", { for: "new-test-hidden" }, addHidden, " Hidden (only interviewers see it)"),
				addButton,
			),
			h("div", { class: "run-actions" }, runButton, offline),
			progress,
			message,
			results,
		),
	);

	async function refreshHidden(): Promise<void> {
		if (!isOwner) return;
		try {
			const all = await api<TestView[]>("GET", `/session/${context.sessionId}/tests`);
			hiddenTests = all.filter((t) => t.hidden);
			render();
		} catch (e: unknown) {
			message.textContent = `Could not load hidden tests: ${errorMessage(e)}`;
		}
	}

	async function rest(method: string, path: string, body?: unknown): Promise<void> {
		try {
			message.textContent = "";
			await api(method, path, body);
		} catch (e: unknown) {
			message.textContent = errorMessage(e);
		}
		await refreshHidden();
	}

	function row(test: TestView, index: number, count: number): HTMLElement {
		const base = `/session/${context.sessionId}/tests/${encodeURIComponent(test.id)}`;
		const change = (patch: Partial<TestCase>) => {
			if (test.hidden) void rest("PUT", base, patch);
			else updateTest(doc, test.id, patch);
		};
		const move = (to: number) => {
			if (test.hidden) void rest("PUT", base, { index: to });
			else moveTest(doc, test.id, to);
		};
		const label = test.name || `test ${index + 1}`;
		return h(
			"li",
			{ class: "test-row", "data-test-id": test.id },
			test.hidden && h("strong", null, "Hidden"),
			...field("Name", test.name, false, !canEdit, (v) => change({ name: v })),
			...field("Stdin", test.stdin, true, !canEdit, (v) => change({ stdin: v })),
			...field("Expected output", test.expected, true, !canEdit, (v) => change({ expected: v })),
			h(
				"div",
				{ class: "run-actions" },
				h(
					"button",
					{
						type: "button",
						class: "secondary",
						"aria-label": `Move ${label} up`,
						disabled: !canEdit || index === 0,
						onclick: () => move(index - 1),
					},
					"Up",
				),
				h(
					"button",
					{
						type: "button",
						class: "secondary",
						"aria-label": `Move ${label} down`,
						disabled: !canEdit || index === count - 1,
						onclick: () => move(index + 1),
					},
					"Down",
				),
				h(
					"button",
					{
						type: "button",
						class: "secondary",
						"aria-label": `Delete ${label}`,
						disabled: !canEdit,
						onclick: () => {
							if (test.hidden) void rest("DELETE", base);
							else removeTest(doc, test.id);
						},
					},
					"Delete",
				),
			),
		);
	}

	function render(): void {
		const visible = readTests(doc).map((t) => ({ ...t, hidden: false }));
		const rows = [
			...visible.map((t, i) => row(t, i, visible.length)),
			...hiddenTests.map((t, i) => row(t, i, hiddenTests.length)),
		];
		replaceChildren(list, ...rows);
		if (rows.length === 0) list.append(h("li", null, "No tests yet"));
	}

	function showReport(report: TestReport, by?: { name: string }): void {
		progress.textContent = `${report.passed} of ${report.total} tests passed${by ? ` · started by ${by.name}` : ""}${report.note ? ` · ${report.note}` : ""}`;
		replaceChildren(
			results,
			...report.results.map((r) =>
				h(
					"li",
					{ class: r.passed ? "verdict-passed" : "verdict-failed", "data-test-id": r.testId },
					h("strong", null, `${r.name}: ${statusInWords(r.status)}`),
					r.executionTime !== undefined && ` (${r.executionTime} ms)`,
					r.status === "wrong_answer" &&
						r.expected !== undefined &&
						h(
							"div",
							null,
							h("div", null, "Expected"),
							h("pre", { "aria-label": `Expected output of ${r.name}` }, terminalText(r.expected)),
							h("div", null, "Actual"),
							h("pre", { "aria-label": `Actual output of ${r.name}` }, terminalText(r.output ?? "")),
						),
					r.error ? h("pre", { "aria-label": `Errors of ${r.name}` }, terminalText(r.error)) : null,
				),
			),
		);
	}

	let currentRun: string | null = null;
	const onStateless = ({ payload }: { payload: string }) => {
		const m = parseMessage<TestsMessage>(payload, "tests");
		if (!m) return;
		if (m.state === "queued" || m.state === "running") {
			currentRun = m.runId;
			progress.textContent = `Running tests…${m.by ? ` (started by ${m.by.name})` : ""}`;
		} else if (m.state === "progress" && m.runId === currentRun) {
			progress.textContent = `Running tests: ${m.completed ?? 0} of ${m.total ?? "?"} done`;
		} else if (m.state === "done" && m.report) {
			currentRun = m.runId;
			showReport(m.report, m.by);
		} else if (m.state === "failed") {
			progress.textContent = `Tests did not finish: ${m.error ?? "the run failed"}`;
		}
	};
	context.session.provider.on("stateless", onStateless);

	addButton.addEventListener("click", () => {
		const test = { name: addName.value, stdin: addStdin.value, expected: addExpected.value };
		if (isOwner && addHidden.checked)
			void rest("POST", `/session/${context.sessionId}/tests`, { ...test, hidden: true });
		else addTest(doc, { id: crypto.randomUUID(), ...test });
		addName.value = "";
		addStdin.value = "";
		addExpected.value = "";
	});

	let online = true;
	let running = false;
	const refreshRun = () => {
		const role = context.currentRole();
		const refused = role === "viewer" || (role === "editor" && context.ended());
		runButton.disabled = !online || running || refused;
	};
	runButton.addEventListener("click", async () => {
		running = true;
		refreshRun();
		message.textContent = "";
		progress.textContent = "Running tests…";
		try {
			const report = await api<TestReport>("POST", `/session/${context.sessionId}/run-tests`, {});
			// The live message may carry a redacted copy for others; this answer is ours.
			showReport(report, { name: context.user.username });
		} catch (e: unknown) {
			progress.textContent = `Could not run tests: ${errorMessage(e)}`;
		} finally {
			running = false;
			refreshRun();
		}
	});
	const stopConnectivity = onConnectivity((state) => {
		online = state.online;
		offline.hidden = state.online;
		offline.textContent = state.reason ?? "";
		runButton.title = state.reason ?? "";
		refreshRun();
	});

	const stopAccess = context.onAccess(() => refreshRun());
	const tests = testsArray(doc);
	const onTests = () => render();
	tests.observeDeep(onTests);
	render();
	void refreshHidden();

	return () => {
		tests.unobserveDeep(onTests);
		stopAccess();
		stopConnectivity();
		context.session.provider.off("stateless", onStateless);
	};
}
