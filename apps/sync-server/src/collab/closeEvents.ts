import type { CloseEvent } from "@hocuspocus/common";

/** Close codes and reasons this server sends on collaboration sockets (4000-4999: application range). */
export const TokenRevoked: CloseEvent = Object.freeze({ code: 4401, reason: "Token revoked" });
export const AccessRevoked: CloseEvent = Object.freeze({ code: 4403, reason: "Access revoked" });
export const ServerShuttingDown: CloseEvent = Object.freeze({ code: 1012, reason: "Server restarting" });
/** A sync message or Yjs update that does not decode (random bytes, truncated, garbage). */
export const MalformedUpdate: CloseEvent = Object.freeze({ code: 4400, reason: "Malformed document update" });
/** A well-formed update whose cost would stall the server (e.g. thousands of clients with missing history). */
export const UpdateTooCostly: CloseEvent = Object.freeze({ code: 4422, reason: "Document update refused" });
/**
 * An update that would take the document past MAX_DOCUMENT_BYTES, or is larger than it (RELIABILITY 39, 44).
 * The document connection closes but the socket stays, so the provider does not reconnect and resend it.
 */
export const DocumentTooLarge: CloseEvent = Object.freeze({ code: 4414, reason: "Document size limit reached" });
/** An editor's or viewer's update that touches the tests, which only the owner and interviewers change. */
export const TestsLocked: CloseEvent = Object.freeze({ code: 4423, reason: "Only interviewers can change tests" });
/** A call signal over the per-message cap (the HTTP 413 analogue). */
export const SignalTooLarge: CloseEvent = Object.freeze({ code: 4413, reason: "Call signal too large" });
/** Call signals kept coming after a full bucket's worth of drops (the HTTP 429 analogue). */
export const SignalFlood: CloseEvent = Object.freeze({ code: 4429, reason: "Call signalling rate exceeded" });
/** An awareness (presence) message that does not decode. */
export const MalformedPresence: CloseEvent = Object.freeze({ code: 4406, reason: "Malformed presence update" });
/** An awareness message over the byte cap, or with more states than one connection may announce. */
export const PresenceTooLarge: CloseEvent = Object.freeze({ code: 4415, reason: "Presence update too large" });
/** Presence updates kept coming after a full bucket's worth of drops. */
export const PresenceFlood: CloseEvent = Object.freeze({ code: 4430, reason: "Presence update rate exceeded" });

/** HTTP statuses for refused upgrades, written before the socket is destroyed. */
export const UPGRADE_REFUSALS = Object.freeze({
	notFound: "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
	forbiddenOrigin: "HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
	badHost: "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
	unavailable: "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
});
