import { api, errorMessage } from "../api/apiClient.ts";
import { h } from "./dom.ts";

/** By username: the participant; by email: a pending invitation (the same whether an account has it). */
interface InviteAnswer {
	readonly participant?: { readonly username: string; readonly role: string };
	readonly invitation?: { readonly email: string; readonly role: string };
}

/** POST/GET /session/{id}/links. */
interface InviteLink {
	readonly id: string;
	readonly role: "editor" | "viewer";
	readonly url: string;
}

/** Who a link lets in, in plain words (shown next to each link). */
export function linkAudience(role: "editor" | "viewer"): string {
	return role === "editor"
		? "Anyone with this link can join as an editor (the candidate): they edit and run the code. No account needed."
		: "Anyone with this link can join as a viewer: they watch, but cannot edit or run. No account needed.";
}

/** The invite-link part of Share (owner and interviewers): make a link with a role, copy it, revoke it. */
function linksSection(sessionId: string): HTMLElement {
	const base = `/session/${encodeURIComponent(sessionId)}/links`;
	const list = h("ul", { class: "invite-links", "aria-label": "Invite links" });
	const status = h("p", { class: "muted", role: "status" });
	const role = h(
		"select",
		{ name: "link-role", id: "link-role" },
		h("option", { value: "editor" }, "Editor (candidate)"),
		h("option", { value: "viewer" }, "Viewer"),
	);
	const create = h("button", { type: "button" }, "Create link");

	function row(link: InviteLink): HTMLElement {
		const input = h("input", {
			readonly: true,
			value: link.url,
			class: "share-url",
			"aria-label": `Invite link (${link.role})`,
		});
		const copy = h("button", { type: "button", "aria-label": `Copy ${link.role} link` }, "Copy");
		copy.addEventListener("click", async () => {
			status.textContent = (await copyText(link.url, input))
				? "Link copied."
				: "Could not copy: select the link and copy it.";
		});
		const revoke = h(
			"button",
			{ type: "button", class: "secondary", "aria-label": `Revoke ${link.role} link` },
			"Revoke",
		);
		revoke.addEventListener("click", async () => {
			try {
				await api("DELETE", `${base}/${encodeURIComponent(link.id)}`);
				status.textContent = "Link revoked: it lets nobody in any more.";
			} catch (e: unknown) {
				status.textContent = errorMessage(e);
			}
			await refresh();
		});
		return h("li", { "data-link-id": link.id }, h("p", null, linkAudience(link.role)), input, copy, revoke);
	}

	async function refresh(): Promise<void> {
		try {
			const links = await api<InviteLink[]>("GET", base);
			list.replaceChildren(...links.map(row));
			if (links.length === 0) list.append(h("li", { class: "muted" }, "No invite links yet."));
		} catch (e: unknown) {
			status.textContent = errorMessage(e);
		}
	}

	create.addEventListener("click", async () => {
		create.disabled = true;
		try {
			await api<InviteLink>("POST", base, { role: role.value });
			status.textContent = "Link created: copy it and send it to the person.";
		} catch (e: unknown) {
			status.textContent = errorMessage(e);
		} finally {
			create.disabled = false;
		}
		await refresh();
	});
	void refresh();
	return h(
		"section",
		{ class: "links", "aria-label": "Invite links" },
		h("h3", null, "Invite links"),
		h("label", { class: "field", for: "link-role" }, h("span", null, "Link role"), role),
		create,
		list,
		status,
	);
}

async function copyText(text: string, input: HTMLInputElement): Promise<boolean> {
	try {
		await navigator.clipboard.writeText(text);
		return true;
	} catch {
		// Clipboard API needs a secure context and permission; fall back to a selection copy.
		input.select();
		return document.execCommand?.("copy") ?? false;
	}
}

/**
 * The "Share" button and its dialog: the session URL with "Copy link", and (for the owner and
 * interviewers) invite links with a role and invitations by username or email.
 */
export function shareDialog(sessionId: string, isManager: boolean): HTMLElement {
	const url = `${location.origin}/s/${encodeURIComponent(sessionId)}`;
	const link = h("input", { readonly: true, value: url, class: "share-url" });
	const copyStatus = h("p", { class: "muted", role: "status" });
	const copy = h("button", { type: "button" }, "Copy link");
	copy.addEventListener("click", async () => {
		copyStatus.textContent = (await copyText(url, link))
			? "Link copied."
			: "Could not copy: select the link and copy it.";
	});

	const who = h("input", { name: "invitee", autocomplete: "off", required: true });
	const role = h(
		"select",
		{ name: "role" },
		h("option", { value: "editor" }, "Editor (candidate)"),
		h("option", { value: "interviewer" }, "Interviewer"),
		h("option", { value: "viewer" }, "Viewer"),
	);
	const inviteStatus = h("p", { class: "invite-status", role: "status" });
	const invite = h("button", { type: "submit" }, "Invite");
	const form = h(
		"form",
		{ class: "invite" },
		h("label", { class: "field" }, h("span", null, "Username or email"), who),
		h("label", { class: "field" }, h("span", null, "Role"), role),
		invite,
		inviteStatus,
	);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		const value = who.value.trim();
		inviteStatus.className = "invite-status";
		if (!value) {
			inviteStatus.textContent = "Enter a username or an email address.";
			inviteStatus.classList.add("error");
			return;
		}
		invite.disabled = true;
		inviteStatus.textContent = "Inviting…";
		try {
			const target = value.includes("@") ? { email: value } : { username: value };
			const { participant, invitation } = await api<InviteAnswer>("POST", "/invite-user", {
				sessionId,
				...target,
				role: role.value,
			});
			inviteStatus.textContent = participant
				? `Invited ${participant.username} as ${participant.role}.`
				: `Invited ${invitation?.email} as ${invitation?.role}: they join when they sign in with that email.`;
			inviteStatus.classList.add("success");
			who.value = "";
		} catch (e: unknown) {
			inviteStatus.textContent = errorMessage(e);
			inviteStatus.classList.add("error");
		} finally {
			invite.disabled = false;
		}
	});

	const close = h("button", { type: "button", class: "secondary" }, "Close");
	const dialog = h(
		"dialog",
		{ class: "share-dialog", "aria-labelledby": "share-title" },
		h("h2", { id: "share-title" }, "Share this session"),
		h("label", { class: "field" }, h("span", null, "Link"), link),
		h("p", { class: "muted" }, "This address opens the session for people already in it."),
		copy,
		copyStatus,
		isManager ? linksSection(sessionId) : null,
		isManager ? form : h("p", { class: "muted" }, "Only the owner and interviewers can invite people."),
		close,
	);
	close.addEventListener("click", () => dialog.close());
	const open = h("button", { type: "button" }, "Share");
	open.addEventListener("click", () => dialog.showModal());
	return h("span", { class: "share" }, open, dialog);
}
