/**
 * The call signalling protocol as the browser sees it: JSON stateless payloads
 * with `type: "call"` on the session's Hocuspocus connection. The sync-server's
 * call/signals.ts validates what clients send and stamps `from`; apps never
 * import each other, so the shapes are written out on both sides.
 */
export const CALL_MESSAGE_TYPE = "call";

export interface MediaState {
	muted: boolean;
	camera: boolean;
}

export type OutgoingSignal =
	| ({ kind: "join" } & MediaState)
	| { kind: "leave" }
	| ({ kind: "present"; to: string } & MediaState)
	| ({ kind: "state" } & MediaState)
	| { kind: "description"; to: string; description: { type: "offer" | "answer"; sdp: string } }
	| { kind: "candidate"; to: string; candidate: RTCIceCandidateInit | null };

/** The authenticated sender, stamped by the server. */
export interface SignalSender {
	peer: string;
	userId: string;
	name: string;
}

export type IncomingSignal =
	| (OutgoingSignal & { from: SignalSender })
	| { kind: "welcome"; peer: string; iceServers: RTCIceServer[] }
	| { kind: "error"; code: string; message: string };

/** Parses a stateless payload; null when it is not a call signal. */
export function parseSignal(payload: string): IncomingSignal | null {
	if (!payload.includes(`"type":"${CALL_MESSAGE_TYPE}"`)) return null;
	try {
		const json = JSON.parse(payload) as { type?: unknown; kind?: unknown };
		if (json.type !== CALL_MESSAGE_TYPE || typeof json.kind !== "string") return null;
		return json as IncomingSignal;
	} catch {
		return null;
	}
}

export function encodeSignal(signal: OutgoingSignal): string {
	return JSON.stringify({ type: CALL_MESSAGE_TYPE, ...signal });
}
