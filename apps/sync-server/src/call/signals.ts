import { z } from "zod";

/**
 * Call signalling messages that travel as Hocuspocus stateless payloads on the
 * session's own document connection. Every payload is JSON with `type: "call"`.
 * Clients send the shapes below; the server adds `from` (the authenticated
 * sender) before forwarding, so nothing a client claims about itself is trusted.
 */
export const CALL_MESSAGE_TYPE = "call";

// A peer id is minted by the server per connection (crypto.randomUUID).
const peerId = z.string().min(1).max(64);
// An SDP for audio+video with many candidates is a few KiB; 48 KiB leaves room under the frame cap.
const sdp = z.string().max(48 * 1024);
const mediaState = { muted: z.boolean(), camera: z.boolean() };

const description = z.strictObject({ type: z.enum(["offer", "answer"]), sdp });
const candidate = z
	.strictObject({
		candidate: z.string().max(2048),
		sdpMid: z.string().max(64).nullable().optional(),
		sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
		usernameFragment: z.string().max(256).nullable().optional(),
	})
	.nullable();

/** What a client may send. `from` is not part of it: the server stamps it. */
export const clientSignal = z.discriminatedUnion("kind", [
	z.strictObject({ type: z.literal(CALL_MESSAGE_TYPE), kind: z.literal("join"), ...mediaState }),
	z.strictObject({ type: z.literal(CALL_MESSAGE_TYPE), kind: z.literal("leave") }),
	z.strictObject({ type: z.literal(CALL_MESSAGE_TYPE), kind: z.literal("present"), to: peerId, ...mediaState }),
	z.strictObject({ type: z.literal(CALL_MESSAGE_TYPE), kind: z.literal("state"), ...mediaState }),
	z.strictObject({ type: z.literal(CALL_MESSAGE_TYPE), kind: z.literal("description"), to: peerId, description }),
	z.strictObject({ type: z.literal(CALL_MESSAGE_TYPE), kind: z.literal("candidate"), to: peerId, candidate }),
]);

export type ClientSignal = z.infer<typeof clientSignal>;

/** The authenticated sender the server stamps on every forwarded signal. */
export interface SignalSender {
	peer: string;
	userId: string;
	name: string;
}

/** A signal as participants receive it. */
export type ForwardedSignal = ClientSignal & { from: SignalSender };

/** Server replies to the sender only. */
export type ServerReply =
	| { type: typeof CALL_MESSAGE_TYPE; kind: "welcome"; peer: string; iceServers: IceServer[] }
	| { type: typeof CALL_MESSAGE_TYPE; kind: "error"; code: SignalErrorCode; message: string };

export type SignalErrorCode = "too_large" | "rate_limited" | "invalid" | "not_joined";

/** RTCIceServer as JSON (the DOM type is not available on the server). */
export interface IceServer {
	urls: string[];
	username?: string;
	credential?: string;
}
