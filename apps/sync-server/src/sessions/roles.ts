/**
 * Roles in a session (CONTRACT "Interviews: roles, links, participants"): the owner (who
 * created it), interviewers, editors (the candidate) and viewers.
 */
export const ROLES = Object.freeze(["owner", "interviewer", "editor", "viewer"] as const);

/** A participant's role in a session. */
export type Role = (typeof ROLES)[number];

/** Roles someone can be given (invite, role change): every role but the owner's. */
export const GRANTABLE_ROLES = Object.freeze(["interviewer", "editor", "viewer"] as const);
export type GrantableRole = (typeof GRANTABLE_ROLES)[number];

/** Roles an invite link can carry. */
export const LINK_ROLES = Object.freeze(["editor", "viewer"] as const);
export type LinkRole = (typeof LINK_ROLES)[number];

export function isRole(value: unknown): value is Role {
	return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** Owner and interviewers manage tests, notes, participants, links and the end of the interview. */
export function isManager(role: Role): boolean {
	return role === "owner" || role === "interviewer";
}

/** Roles that manage the session, for requireSessionRole. */
export const MANAGER_ROLES: readonly Role[] = Object.freeze(["owner", "interviewer"]);

/** Whether this role edits the document: viewers never; editors not while the interview is ended. */
export function canEditDocument(role: Role, ended: boolean): boolean {
	if (isManager(role)) return true;
	return role === "editor" && !ended;
}

/** Whether this role may run code or the tests: viewers never; editors not while ended. */
export function canRun(role: Role, ended: boolean): boolean {
	return canEditDocument(role, ended);
}

/** Why `role` cannot run, in words (for a 403). */
export function runRefusal(role: Role): string {
	return role === "viewer"
		? "Viewers cannot run code or tests"
		: "The interview has ended: only the owner and interviewers can run code until it is reopened";
}
