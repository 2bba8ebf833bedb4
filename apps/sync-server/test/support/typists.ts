import { codeText, readCode } from "@tandem/crdt-schema";
import { expect } from "vitest";
import * as Y from "yjs";
import type { CollabClient } from "./collabClient.ts";

/** Markers look like `[a.17]`: a typist's name and a sequence number, never split or nested. */
const MARKER = /\[[a-z0-9]+\.\d+\]/g;

/**
 * A client that appends one marker every `everyMs` and remembers, for each marker, its own
 * Yjs clock right after typing it. A marker is acknowledged once a `stored` message's state
 * vector reaches that clock: the way the editor decides "saved" (apps/editor syncState.ts).
 */
export class Typist {
	readonly typed: { marker: string; clock: number }[] = [];
	private timer: NodeJS.Timeout | undefined;
	private readonly clientId: number;
	readonly name: string;
	readonly client: CollabClient;

	constructor(name: string, client: CollabClient) {
		this.name = name;
		this.client = client;
		this.clientId = client.doc.clientID;
	}

	/** Type one marker now; returns it. */
	type(): string {
		if (this.client.doc.isDestroyed) throw new Error(`${this.name} types into a closed document`);
		const marker = `[${this.name}.${this.typed.length}]`;
		const text = codeText(this.client.doc);
		// At the end of what this replica has: never inside another typist's marker.
		text.insert(text.length, marker);
		this.typed.push({ marker, clock: Y.getState(this.client.doc.store, this.clientId) });
		return marker;
	}

	start(everyMs: number): this {
		this.timer ??= setInterval(() => {
			// A failed test destroys the clients before its typists stop: end quietly.
			if (this.client.doc.isDestroyed) this.stop();
			else this.type();
		}, everyMs);
		return this;
	}

	stop(): void {
		clearInterval(this.timer);
		this.timer = undefined;
	}

	/** Highest clock of this typist any `stored` message covered. */
	storedClock(): number {
		let best = 0;
		for (const payload of this.client.stateless) {
			const sv = storedStateVector(payload);
			if (sv) best = Math.max(best, sv.get(this.clientId) ?? 0);
		}
		return best;
	}

	/** Markers a `stored` message has acknowledged ("saved"). */
	acked(): string[] {
		const clock = this.storedClock();
		return this.typed.filter((t) => t.clock <= clock).map((t) => t.marker);
	}

	/** Markers typed but not acknowledged yet. */
	unacked(): string[] {
		const clock = this.storedClock();
		return this.typed.filter((t) => t.clock > clock).map((t) => t.marker);
	}

	all(): string[] {
		return this.typed.map((t) => t.marker);
	}
}

function storedStateVector(payload: string): Map<number, number> | null {
	try {
		const message = JSON.parse(payload) as { type?: unknown; stateVector?: unknown };
		if (message.type !== "stored" || typeof message.stateVector !== "string") return null;
		return Y.decodeStateVector(Buffer.from(message.stateVector, "base64"));
	} catch {
		return null;
	}
}

/**
 * The text is the seed followed by markers, each at most once: nothing was duplicated, not
 * the seed and not any edit. Returns the markers found.
 */
export function markersOnce(text: string, seed: string): string[] {
	const found = text.match(MARKER) ?? [];
	expect(text.replace(MARKER, "")).toBe(seed);
	expect(found.length).toBe(new Set(found).size);
	return found;
}

/** `text` holds every one of `markers`. */
export function holdsAll(text: string, markers: readonly string[]): boolean {
	const present = new Set(text.match(MARKER) ?? []);
	return markers.every((m) => present.has(m));
}

/** The code of a Yjs state (the database's copy). */
export function codeOfState(state: Uint8Array | undefined | null): string {
	const doc = new Y.Doc();
	if (state) Y.applyUpdate(doc, state);
	const code = readCode(doc);
	doc.destroy();
	return code;
}

/**
 * Poll until `check` holds; after `deadlineMs` fail with `what` and the last detail, so a
 * stuck fault test says what it waited for instead of hitting the test timeout.
 */
export async function within(
	what: string,
	check: () => boolean | Promise<boolean>,
	deadlineMs = 20_000,
	detail: () => unknown = () => "",
): Promise<void> {
	const deadline = Date.now() + deadlineMs;
	for (;;) {
		if (await check()) return;
		if (Date.now() > deadline) throw new Error(`not within ${deadlineMs} ms: ${what} ${JSON.stringify(detail())}`);
		await new Promise((r) => setTimeout(r, 25));
	}
}
