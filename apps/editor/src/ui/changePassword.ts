import { ApiError, api, errorMessage } from "../api/apiClient.ts";
import { type Auth, saveAuth } from "../auth/authStore.ts";
import { h } from "./dom.ts";
import { navigate } from "./navigation.ts";
import { loginPath } from "./routes.ts";

/**
 * "Change password" behind a disclosure: the server ends every earlier token (other devices and open
 * sockets) and answers with a fresh one, which this device keeps.
 */
export function changePasswordSection(): HTMLElement {
	const current = h("input", {
		name: "currentPassword",
		type: "password",
		autocomplete: "current-password",
		required: true,
	});
	const next = h("input", { name: "newPassword", type: "password", autocomplete: "new-password", required: true });
	const submit = h("button", { type: "submit" }, "Change password");
	const message = h("p", { role: "status", class: "muted" });
	const form = h(
		"form",
		{ class: "change-password" },
		h("label", { class: "field" }, h("span", null, "Current password"), current),
		h("label", { class: "field" }, h("span", null, "New password"), next),
		submit,
		message,
	);
	form.addEventListener("submit", async (event) => {
		event.preventDefault();
		submit.disabled = true;
		message.className = "muted";
		message.textContent = "Changing the password…";
		try {
			const auth = await api<Auth>("POST", "/change-password", {
				currentPassword: current.value,
				newPassword: next.value,
			});
			saveAuth(auth);
			form.reset();
			message.textContent = "Password changed. Other devices have been signed out.";
		} catch (e: unknown) {
			if (e instanceof ApiError && e.status === 401) return navigate(loginPath("/"), { replace: true });
			message.className = "error";
			message.textContent = errorMessage(e);
		} finally {
			submit.disabled = false;
		}
	});
	return h("details", { class: "account" }, h("summary", null, "Account"), form);
}
