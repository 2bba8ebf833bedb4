import { api, errorMessage } from "../api/apiClient.ts";
import type { OpenSession } from "../collab/openSession.ts";
import { h, replaceChildren } from "./dom.ts";
import { isManagerRole, type SessionRole } from "./sessionPanels.ts";

/** GET /session/{id}/participants, one row. */
interface Participant {
	readonly userId: string;
	readonly username: string;
	readonly role: SessionRole;
	readonly joinedAt: string;
	readonly guest: boolean;
}

export interface ParticipantsOptions {
	readonly sessionId: string;
	readonly session: OpenSession;
	readonly user: { readonly id: string };
	readonly role: () => SessionRole | null;
	readonly ended: () => boolean;
	readonly onAccess: (listener: () => void) => () => void;
}

const ROLE_WORDS: Readonly<Record<SessionRole, string>> = Object.freeze({
	owner: "Owner",
	interviewer: "Interviewer",
	editor: "Editor (candidate)",
	viewer: "Viewer",
});

/**
 * Who is in the session and their role. The owner and interviewers change roles, remove
 * people and end or reopen the interview; the list follows the server's `participants`
 * messages and access changes.
 */
export function mountParticipants(slot: HTMLElement, options: ParticipantsOptions): () => void {
	const list = h("ul", { class: "participants", "aria-label": "Participants" });
	const status = h("p", { class: "muted", role: "status" });
	const endButton = h("button", { type: "button", class: "secondary", hidden: true });
	replaceChildren(slot, h("h3", null, "Participants"), list, endButton, status);
	const base = `/session/${encodeURIComponent(options.sessionId)}`;
	let closed = false;

	async function act(method: string, path: string, body?: unknown): Promise<void> {
		status.textContent = "";
		try {
			await api(method, path, body);
		} catch (e: unknown) {
			status.textContent = errorMessage(e);
		}
		await refresh();
	}

	function row(p: Participant, manager: boolean): HTMLElement {
		const name = `${p.username}${p.guest ? " (guest)" : ""}${p.userId === options.user.id ? " (you)" : ""}`;
		const item = h("li", { "data-user-id": p.userId }, h("span", { class: "participant-name" }, name), " ");
		if (!manager || p.role === "owner") {
			item.append(h("span", { class: "badge" }, ROLE_WORDS[p.role]));
			return item;
		}
		const select = h(
			"select",
			{ "aria-label": `Role of ${p.username}` },
			...(["interviewer", "editor", "viewer"] as const).map((r) =>
				h("option", { value: r, selected: r === p.role }, ROLE_WORDS[r]),
			),
		);
		select.addEventListener(
			"change",
			() => void act("PUT", `${base}/participants/${p.userId}`, { role: select.value }),
		);
		const remove = h("button", { type: "button", class: "secondary", "aria-label": `Remove ${p.username}` }, "Remove");
		remove.addEventListener("click", () => {
			if (confirm(`Remove ${p.username} from this session? Their connection ends at once.`))
				void act("DELETE", `${base}/participants/${p.userId}`);
		});
		item.append(select, " ", remove);
		return item;
	}

	async function refresh(): Promise<void> {
		let people: Participant[];
		try {
			people = await api<Participant[]>("GET", `${base}/participants`);
		} catch {
			return; // Offline or removed: the page's status says so.
		}
		if (closed) return;
		const manager = isManagerRole(options.role());
		replaceChildren(list, ...people.map((p) => row(p, manager)));
		endButton.hidden = !manager;
		endButton.textContent = options.ended() ? "Reopen interview" : "End interview";
	}

	endButton.addEventListener("click", () => {
		const ending = !options.ended();
		if (ending && !confirm("End the interview? Candidates become read-only and cannot run code until you reopen it."))
			return;
		void act("POST", `${base}/${ending ? "end" : "reopen"}`);
	});

	const onStateless = ({ payload }: { payload: string }) => {
		if (payload === '{"type":"participants"}') void refresh();
	};
	options.session.provider.on("stateless", onStateless);
	const stopAccess = options.onAccess(() => void refresh());
	void refresh();
	return () => {
		closed = true;
		stopAccess();
		options.session.provider.off("stateless", onStateless);
	};
}
