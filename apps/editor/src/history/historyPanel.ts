import { api, errorMessage } from "../api/apiClient.ts";
import { h, replaceChildren } from "../ui/dom.ts";
import "./history.css";

/** One event of GET /session/{id}/history (CONTRACT "History"). */
export interface HistoryEvent {
	readonly id: string;
	readonly at: string;
	readonly kind: string;
	readonly userId: string | null;
	readonly status?: string;
	readonly passed?: number | null;
	readonly total?: number | null;
	readonly language?: string;
}

interface HistoryPoint {
	readonly code: string;
	readonly language: string;
	readonly at: string;
}

interface AuthorshipRange {
	readonly from: number;
	readonly to: number;
	readonly userId: string | null;
}

/** Playback speeds offered (multiples of real time). */
export const PLAY_SPEEDS = [1, 4, 16] as const;
/** Longest pause between two events during playback (ms, before the speed-up), so idle stretches do not stall it. */
const MAX_STEP_MS = 3000;
/** Shortest pause between two events during playback (ms), so each point is seen. */
const MIN_STEP_MS = 60;
/** Colours given to authors in order of first appearance (contrast ≥ 3:1 on white as backgrounds with dark text). */
const AUTHOR_COLOURS = ["#fde68a", "#bfdbfe", "#bbf7d0", "#fecaca", "#ddd6fe", "#fed7aa"];

/** The marker class of an event: runs and test runs by outcome (CONTRACT "History" kinds). */
export function markerClass(event: HistoryEvent): string {
	if (event.kind === "run") return event.status === "ok" ? "mark run ok" : "mark run failed";
	if (event.kind === "tests") {
		if (event.total == null) return "mark tests pending";
		return event.passed === event.total ? "mark tests ok" : "mark tests failed";
	}
	return `mark ${event.kind}`;
}

/** The event in words, for the scrubber's aria-valuetext and the caption. */
export function describeEvent(event: HistoryEvent, names: ReadonlyMap<string, string>): string {
	const who = event.userId ? (names.get(event.userId) ?? "someone") : "the server";
	const when = new Date(event.at).toLocaleTimeString();
	switch (event.kind) {
		case "edit":
			return `${when}: edit by ${who}`;
		case "run":
			return `${when}: run by ${who}, ${event.status ?? "unknown"}`;
		case "tests":
			return `${when}: test run, ${event.passed ?? "?"} of ${event.total ?? "?"} passed`;
		case "language":
			return `${when}: ${who} switched the language to ${event.language ?? "?"}`;
		case "join":
			return `${when}: ${who} joined`;
		case "leave":
			return `${when}: ${who} left`;
		case "restore":
			return `${when}: ${who} restored an earlier version`;
		default:
			return `${when}: ${event.kind}`;
	}
}

/**
 * The History tab's content (owner and interviewers): a scrubber over every event with markers for
 * runs (by status), test runs, language switches and joins; play at 1×/4×/16× and jump to the next
 * run; the code at the chosen point, read-only; "Run this version", "Restore this version" and an
 * authorship colouring of the current code. Returns a cleanup function.
 */
export function mountHistory(host: HTMLElement, sessionId: string): () => void {
	const base = `/session/${encodeURIComponent(sessionId)}`;
	const scrubber = h("input", {
		type: "range",
		min: 0,
		max: 0,
		value: 0,
		step: 1,
		id: "history-scrubber",
		"aria-label": "Point in the session",
	});
	const markers = h("div", { class: "history-markers", "aria-hidden": "true" });
	const caption = h("p", { class: "history-caption", role: "status", "aria-live": "polite" }, "Loading history…");
	const playButton = h("button", { type: "button", "aria-pressed": "false" }, "Play");
	const speed = h(
		"select",
		{ "aria-label": "Playback speed" },
		...PLAY_SPEEDS.map((s) => h("option", { value: String(s) }, `${s}×`)),
	);
	const nextRun = h("button", { type: "button" }, "Next run");
	const runVersion = h("button", { type: "button" }, "Run this version");
	const restoreVersion = h("button", { type: "button" }, "Restore this version");
	const authorship = h("input", { type: "checkbox", id: "history-authorship" });
	const code = h("pre", { class: "history-code", "aria-label": "Code at this point", tabindex: 0 });
	const output = h("pre", { class: "history-output", "aria-label": "Output of this version", hidden: true });
	const problem = h("p", { class: "error", role: "alert", hidden: true });
	replaceChildren(
		host,
		h(
			"div",
			{ class: "history-panel" },
			h("label", { for: "history-scrubber" }, "Point in the session"),
			h("div", { class: "history-track" }, markers, scrubber),
			caption,
			h(
				"div",
				{ class: "history-actions" },
				playButton,
				speed,
				nextRun,
				runVersion,
				restoreVersion,
				h("label", { for: "history-authorship" }, authorship, " Colour by author (current code)"),
			),
			problem,
			code,
			output,
		),
	);

	let events: HistoryEvent[] = [];
	const names = new Map<string, string>();
	const points = new Map<string, Promise<HistoryPoint>>();
	let shown = -1;
	let playing: ReturnType<typeof setTimeout> | undefined;
	let closed = false;

	const fail = (e: unknown) => {
		problem.textContent = errorMessage(e);
		problem.hidden = false;
	};
	const current = () => events[Number(scrubber.value)];
	const pointOf = (id: string) => {
		let p = points.get(id);
		if (!p) {
			p = api<HistoryPoint>("GET", `${base}/history/${encodeURIComponent(id)}`);
			p.catch(() => points.delete(id));
			points.set(id, p);
		}
		return p;
	};

	const show = async () => {
		const index = Number(scrubber.value);
		const event = events[index];
		if (!event) return;
		const text = describeEvent(event, names);
		scrubber.setAttribute("aria-valuetext", text);
		caption.textContent = `${index + 1} of ${events.length}. ${text}`;
		if (authorship.checked) return;
		shown = index;
		try {
			const point = await pointOf(event.id);
			if (closed || shown !== index || authorship.checked) return;
			code.textContent = point.code;
			code.dataset.language = point.language;
			code.dataset.eventId = event.id;
			problem.hidden = true;
		} catch (e: unknown) {
			fail(e);
		}
	};

	const colourAuthors = async () => {
		if (!authorship.checked) return show();
		try {
			const { ranges, code: text } = await api<{ ranges: AuthorshipRange[]; code: string }>(
				"GET",
				`${base}/authorship`,
			);
			if (closed || !authorship.checked) return;
			const colours = new Map<string | null, string>();
			code.replaceChildren(
				...ranges.map((r) => {
					if (!colours.has(r.userId)) colours.set(r.userId, AUTHOR_COLOURS[colours.size % AUTHOR_COLOURS.length] ?? "");
					const who = r.userId ? (names.get(r.userId) ?? "someone") : "unknown";
					return h(
						"span",
						{
							class: "author",
							style: `background:${colours.get(r.userId)}`,
							title: who,
							"data-user-id": r.userId ?? "",
						},
						text.slice(r.from, r.to),
					);
				}),
			);
			delete code.dataset.eventId;
		} catch (e: unknown) {
			fail(e);
		}
	};

	const stop = () => {
		if (playing !== undefined) clearTimeout(playing);
		playing = undefined;
		playButton.textContent = "Play";
		playButton.setAttribute("aria-pressed", "false");
	};
	const step = () => {
		const index = Number(scrubber.value);
		const here = events[index];
		const next = events[index + 1];
		if (!here || !next) return stop();
		const gap = Math.min(MAX_STEP_MS, Date.parse(next.at) - Date.parse(here.at));
		playing = setTimeout(
			() => {
				scrubber.value = String(index + 1);
				void show();
				step();
			},
			Math.max(MIN_STEP_MS, gap / Number(speed.value)),
		);
	};

	playButton.addEventListener("click", () => {
		if (playing !== undefined) return stop();
		if (Number(scrubber.value) >= events.length - 1) scrubber.value = "0";
		playButton.textContent = "Pause";
		playButton.setAttribute("aria-pressed", "true");
		void show();
		step();
	});
	scrubber.addEventListener("input", () => {
		stop();
		void show();
	});
	nextRun.addEventListener("click", () => {
		stop();
		const from = Number(scrubber.value);
		const index = events.findIndex((e, i) => i > from && e.kind === "run");
		if (index < 0) {
			caption.textContent = "No later run.";
			return;
		}
		scrubber.value = String(index);
		void show();
	});
	runVersion.addEventListener("click", async () => {
		const event = current();
		if (!event) return;
		runVersion.disabled = true;
		try {
			const result = await api<{ output: string; error: string; status: string }>("POST", "/execute-code", {
				sessionId,
				at: event.id,
			});
			output.textContent = `${result.status}\n${result.output}${result.error}`;
			output.hidden = false;
			await load();
		} catch (e: unknown) {
			fail(e);
		} finally {
			runVersion.disabled = false;
		}
	});
	restoreVersion.addEventListener("click", async () => {
		const event = current();
		if (!event) return;
		restoreVersion.disabled = true;
		try {
			await api("POST", `${base}/restore`, { eventId: event.id });
			caption.textContent = "Restored: everyone now has this version.";
			await load();
		} catch (e: unknown) {
			fail(e);
		} finally {
			restoreVersion.disabled = false;
		}
	});
	authorship.addEventListener("change", () => void colourAuthors());

	const load = async () => {
		const [history, session] = await Promise.all([
			api<{ events: HistoryEvent[] }>("GET", `${base}/history`),
			api<{ participants?: { userId: string; username?: string }[] }>("GET", base).catch(() => null),
		]);
		if (closed) return;
		for (const p of session?.participants ?? []) if (p.username) names.set(p.userId, p.username);
		const keep = Number(scrubber.value);
		const atEnd = keep >= events.length - 1;
		events = history.events;
		scrubber.max = String(Math.max(0, events.length - 1));
		scrubber.value = String(atEnd ? events.length - 1 : Math.min(keep, events.length - 1));
		const span = Math.max(1, events.length - 1);
		markers.replaceChildren(
			...events
				.map((e, i) => ({ e, i }))
				.filter(({ e }) => e.kind !== "edit")
				.map(({ e, i }) =>
					h("span", { class: markerClass(e), style: `left:${(i / span) * 100}%`, title: describeEvent(e, names) }),
				),
		);
		await show();
	};

	load().catch(fail);
	return () => {
		closed = true;
		stop();
	};
}
