import { cleanPresenceState, isPresenceColor, type PresenceState } from "@tandem/crdt-schema";
import type { Awareness } from "y-protocols/awareness";
import { userColor } from "./userColor.ts";

/** A person as the page may show them: the colours are always `#rrggbb` / `#rrggbbaa`. */
export interface ShownUser {
	readonly id: string;
	readonly name: string;
	readonly color: string;
	readonly colorLight: string;
}

/** A presence state as the page may use it: only well-formed fields, `user` with safe colours. */
export type ShownState = Omit<PresenceState, "user"> & { readonly user?: ShownUser };

/**
 * Another participant's presence state made safe to render (RELIABILITY 46): unknown and
 * malformed fields dropped (SPEC PR2), and a colour that is not exactly `#rrggbb` replaced by the
 * one derived from the user id. The selection colour is always derived from the caret colour,
 * never taken from the state. Nothing from another person reaches a style attribute otherwise.
 */
export function shownState(raw: unknown): ShownState {
	const { user, ...rest } = cleanPresenceState(raw);
	if (!user) return rest;
	const color = isPresenceColor(user.color) ? user.color : userColor(user.id).color;
	return { ...rest, user: { id: user.id, name: user.name, color, colorLight: `${color}33` } };
}

/**
 * The awareness as y-codemirror.next's remote selections see it: the same object for the local
 * state and events, but `getStates()` returns every state through `shownState`, so a hostile
 * name, colour or cursor never reaches the editor's DOM.
 */
export class PresenceView {
	private readonly awareness: Awareness;

	constructor(awareness: Awareness) {
		this.awareness = awareness;
	}

	get doc(): Awareness["doc"] {
		return this.awareness.doc;
	}

	get clientID(): number {
		return this.awareness.clientID;
	}

	getStates(): Map<number, ShownState> {
		const out = new Map<number, ShownState>();
		for (const [clientId, state] of this.awareness.getStates()) out.set(clientId, shownState(state));
		return out;
	}

	getLocalState(): Record<string, unknown> | null {
		return this.awareness.getLocalState();
	}

	setLocalStateField(field: string, value: unknown): void {
		this.awareness.setLocalStateField(field, value);
	}

	on(event: "change" | "update", listener: (...args: never[]) => void): void {
		this.awareness.on(event, listener as (...args: unknown[]) => void);
	}

	off(event: "change" | "update", listener: (...args: never[]) => void): void {
		this.awareness.off(event, listener as (...args: unknown[]) => void);
	}
}
