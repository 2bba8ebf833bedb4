import { seedDocument } from "@tandem/crdt-schema";
import * as Y from "yjs";
import { ApiError, api } from "../api/apiClient.ts";
import { writeLocalDocument } from "./localDocument.ts";
import type { SessionSummary } from "./sessionListCache.ts";

/** A session made on this device that the server does not know yet. */
export interface PendingSession {
	readonly id: string;
	readonly title: string;
	readonly language: string;
	readonly createdAt: string;
	/** Why the server refused it (e.g. the id is taken), or undefined while it may still register. */
	readonly refused?: string;
}

const ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";
/** 22 characters of a 64-letter alphabet: 132 random bits, like the server's own ids (>= 128). */
export const CLIENT_SESSION_ID_LENGTH = 22;

/** A nanoid-style session id from the browser's CSPRNG (64 letters, so `& 63` is unbiased). */
export function newClientSessionId(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(CLIENT_SESSION_ID_LENGTH));
	let id = "";
	for (const byte of bytes) id += ID_ALPHABET[byte & 63];
	return id;
}

const key = (userId: string) => `tandem.pending.${userId}`;

/** Sessions created on this device and not yet registered with the server. */
export function pendingSessions(userId: string): PendingSession[] {
	try {
		const value: unknown = JSON.parse(localStorage.getItem(key(userId)) ?? "[]");
		if (!Array.isArray(value)) return [];
		return value.filter(
			(p: Partial<PendingSession>) =>
				typeof p?.id === "string" && typeof p.title === "string" && typeof p.language === "string",
		);
	} catch {
		return [];
	}
}

function savePending(userId: string, list: readonly PendingSession[]): void {
	localStorage.setItem(key(userId), JSON.stringify(list));
}

export function isPendingSession(userId: string, sessionId: string): boolean {
	return pendingSessions(userId).some((p) => p.id === sessionId);
}

/** How a pending session appears in the session list. */
export function pendingSummary(pending: PendingSession): SessionSummary {
	return {
		id: pending.id,
		title: pending.title,
		language: pending.language,
		role: "owner",
		createdAt: pending.createdAt,
	};
}

/**
 * Create a session on this device: a client-made id, the document seeded here and written
 * to IndexedDB, listed as pending until `registerPendingSession` succeeds.
 */
export async function createLocalSession(
	userId: string,
	input: { readonly title: string; readonly language: string },
): Promise<PendingSession> {
	const pending: PendingSession = {
		id: newClientSessionId(),
		title: input.title,
		language: input.language,
		createdAt: new Date().toISOString(),
	};
	const doc = new Y.Doc();
	try {
		// Seeded by this client, not the server: POST /create-session with an id does not seed (CS4).
		await writeLocalDocument(doc, userId, pending.id, (d) =>
			seedDocument(d, { code: "", language: input.language, title: input.title }, null),
		);
	} finally {
		doc.destroy();
	}
	savePending(userId, [...pendingSessions(userId), pending]);
	return pending;
}

/** The outcome of one attempt to register a pending session. */
export type RegisterOutcome = "registered" | "offline" | "refused";

const inFlight = new Map<string, Promise<RegisterOutcome>>();

/**
 * Register a pending session with POST /create-session {id, title, language} (no code: the
 * document syncs through the provider). "offline" leaves it pending for a later attempt;
 * "refused" records the server's reason (the id is taken, bad input) and stops retrying.
 */
export function registerPendingSession(userId: string, sessionId: string): Promise<RegisterOutcome> {
	const running = inFlight.get(sessionId);
	if (running) return running;
	const attempt = (async (): Promise<RegisterOutcome> => {
		const pending = pendingSessions(userId).find((p) => p.id === sessionId);
		if (!pending) return "registered";
		if (pending.refused) return "refused";
		try {
			await api("POST", "/create-session", {
				id: pending.id,
				title: pending.title || undefined,
				language: pending.language,
			});
		} catch (e: unknown) {
			const status = e instanceof ApiError ? e.status : 0;
			// Unreachable, signed out or a server hiccup: try again later.
			if (status === 0 || status === 401 || status === 429 || status >= 500) return "offline";
			const message = e instanceof Error ? e.message : String(e);
			savePending(
				userId,
				pendingSessions(userId).map((p) => (p.id === sessionId ? { ...p, refused: message } : p)),
			);
			return "refused";
		}
		savePending(
			userId,
			pendingSessions(userId).filter((p) => p.id !== sessionId),
		);
		return "registered";
	})().finally(() => inFlight.delete(sessionId));
	inFlight.set(sessionId, attempt);
	return attempt;
}

/** Try to register every pending session of this person; resolves when all attempts end. */
export async function registerAllPending(userId: string): Promise<void> {
	await Promise.all(pendingSessions(userId).map((p) => registerPendingSession(userId, p.id)));
}
