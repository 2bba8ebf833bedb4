import { ROOT } from "./document.ts";

/**
 * The presence (Yjs awareness) state a session's participants share: who is here, their cursor
 * and their call peer (SPEC PR1–PR3). Everyone's state reaches everyone else's screen, so the
 * server (before it applies or relays a state) and the editor (before anything reaches the DOM)
 * both pass it through `cleanPresenceState`: one definition, used on both sides.
 */

/**
 * Longest name shown for a person, in UTF-16 code units. Usernames are at most 32 ASCII
 * characters (POST /register); 64 leaves room without letting a label cover the editor.
 */
export const PRESENCE_NAME_MAX_CHARS = 64;
/** Longest call peer id (the server mints UUIDs, 36 characters). */
export const PRESENCE_PEER_MAX_CHARS = 64;

// No control or format characters (bidi overrides, zero-width joiners), no unassigned, private-use
// or lone surrogate code points, no line or paragraph separators: a name is one visible line.
const NAME_CHARACTERS = /^[^\p{C}\p{Zl}\p{Zp}]+$/u;
const COLOR = /^#[0-9a-fA-F]{6}$/;
const COLOR_WITH_ALPHA = /^#[0-9a-fA-F]{8}$/;
const ROOT_NAMES: ReadonlySet<string> = new Set(Object.values(ROOT));

/** A person as others see them. `color` is `#rrggbb`, `colorLight` (selections) `#rrggbbaa`. */
export interface PresenceUser {
	readonly id: string;
	readonly name: string;
	readonly color?: string;
	readonly colorLight?: string;
}

/** A Yjs item id as JSON. */
export interface PresenceId {
	readonly client: number;
	readonly clock: number;
}

/** Y.RelativePosition as JSON (what y-codemirror.next puts in `cursor`). */
export interface PresencePosition {
	readonly type: PresenceId | null;
	readonly tname: string | null;
	readonly item: PresenceId | null;
	readonly assoc: number;
}

/** The fields of a presence state; anything else is dropped. */
export interface PresenceState {
	readonly user?: PresenceUser;
	readonly cursor?: { readonly anchor: PresencePosition; readonly head: PresencePosition } | null;
	readonly call?: { readonly peer: string } | null;
}

/** A name others may be shown: 1–64 characters of visible text on one line, not only spaces. */
export function isPresenceName(value: unknown): value is string {
	return (
		typeof value === "string" &&
		value.length <= PRESENCE_NAME_MAX_CHARS &&
		value.trim().length > 0 &&
		NAME_CHARACTERS.test(value)
	);
}

/** Exactly `#rrggbb`: the only colour form that may reach a style attribute. */
export function isPresenceColor(value: unknown): value is string {
	return typeof value === "string" && COLOR.test(value);
}

/** Exactly `#rrggbbaa`. */
export function isPresenceColorWithAlpha(value: unknown): value is string {
	return typeof value === "string" && COLOR_WITH_ALPHA.test(value);
}

/** The user field with only well-formed values, or undefined when there is no valid id and name. */
export function cleanPresenceUser(value: unknown): PresenceUser | undefined {
	if (!isRecord(value)) return undefined;
	const { id, name, color, colorLight } = value;
	if (typeof id !== "string" || id.length === 0 || id.length > PRESENCE_NAME_MAX_CHARS || !isPresenceName(name))
		return undefined;
	return {
		id,
		name,
		...(isPresenceColor(color) ? { color } : {}),
		...(isPresenceColorWithAlpha(colorLight) ? { colorLight } : {}),
	};
}

/**
 * A presence state with only the known fields, each well-formed (SPEC PR2): `user` via
 * cleanPresenceUser, `cursor` as two relative positions into a root of the document (a cursor
 * naming any other root would make every reader create that root), `call.peer` a short string.
 * Malformed fields are left out; a state that is not an object comes back empty.
 */
export function cleanPresenceState(value: unknown): PresenceState {
	if (!isRecord(value)) return {};
	const out: { user?: PresenceUser; cursor?: PresenceState["cursor"]; call?: PresenceState["call"] } = {};
	const user = cleanPresenceUser(value.user);
	if (user) out.user = user;
	if (value.cursor === null) out.cursor = null;
	else if (isRecord(value.cursor)) {
		const anchor = cleanPosition(value.cursor.anchor);
		const head = cleanPosition(value.cursor.head);
		if (anchor && head) out.cursor = { anchor, head };
	}
	if (value.call === null) out.call = null;
	else if (
		isRecord(value.call) &&
		typeof value.call.peer === "string" &&
		value.call.peer.length > 0 &&
		value.call.peer.length <= PRESENCE_PEER_MAX_CHARS
	)
		out.call = { peer: value.call.peer };
	return out;
}

function cleanPosition(value: unknown): PresencePosition | undefined {
	if (!isRecord(value)) return undefined;
	const type = value.type == null ? null : cleanId(value.type);
	const item = value.item == null ? null : cleanId(value.item);
	const tname = value.tname == null ? null : value.tname;
	if (type === undefined || item === undefined) return undefined;
	if (tname !== null && (typeof tname !== "string" || !ROOT_NAMES.has(tname))) return undefined;
	const assoc = value.assoc ?? 0;
	if (typeof assoc !== "number" || !Number.isSafeInteger(assoc)) return undefined;
	return { type, tname, item, assoc };
}

function cleanId(value: unknown): PresenceId | undefined {
	if (!isRecord(value)) return undefined;
	const { client, clock } = value;
	if (!isUint(client) || !isUint(clock)) return undefined;
	return { client, clock };
}

function isUint(value: unknown): value is number {
	return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}
