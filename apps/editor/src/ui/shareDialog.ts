import { api, errorMessage } from "../api/apiClient.ts";
import { h } from "./dom.ts";

/** By username: the participant; by email: a pending invitation (the same whether an account has it). */
interface InviteAnswer {
	readonly participant?: { readonly username: string; readonly role: string };
	readonly invitation?: { readonly email: string; readonly role: string };
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
 * The "Share" button and its dialog: the session URL with "Copy link", and (for the owner)
 * invite by username or email as editor or viewer.
 */
export function shareDialog(sessionId: string, isOwner: boolean): HTMLElement {
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
		h("option", { value: "editor" }, "Editor"),
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
		copy,
		copyStatus,
		isOwner ? form : h("p", { class: "muted" }, "Only the owner can invite people."),
		close,
	);
	close.addEventListener("click", () => dialog.close());
	const open = h("button", { type: "button" }, "Share");
	open.addEventListener("click", () => dialog.showModal());
	return h("span", { class: "share" }, open, dialog);
}
