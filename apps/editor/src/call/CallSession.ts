import { PeerLink } from "./PeerLink.ts";
import { encodeSignal, type IncomingSignal, type MediaState, type OutgoingSignal, parseSignal } from "./signals.ts";

/** Everything a call needs from the session's HocuspocusProvider. */
export interface CallProvider {
	sendStateless(payload: string): void;
	on(event: string, fn: (...args: never[]) => void): unknown;
	off(event: string, fn: (...args: never[]) => void): unknown;
	awareness: CallAwareness | null;
	/** HocuspocusProvider's flag; until it is true, signals would reach nobody. */
	isAuthenticated?: boolean;
}

/** The y-protocols Awareness surface the call uses. */
export interface CallAwareness {
	clientID: number;
	getStates(): Map<number, Record<string, unknown>>;
	setLocalStateField(field: string, value: unknown): void;
	on(event: "change", fn: (change: { added: number[]; updated: number[]; removed: number[] }) => void): void;
	off(event: "change", fn: (change: { added: number[]; updated: number[]; removed: number[] }) => void): void;
}

/** One participant as the UI shows it. */
export interface Participant {
	peer: string;
	userId: string;
	name: string;
	self: boolean;
	stream: MediaStream | null;
	muted: boolean;
	camera: boolean;
}

export type CallEvent =
	| { type: "joined" }
	| { type: "left" }
	| { type: "participant"; participant: Participant }
	| { type: "participantLeft"; peer: string }
	| { type: "local"; state: MediaState }
	| { type: "message"; text: string };

// A mesh sends every stream to every peer: at ~1.5 Mbit/s of video per stream an uplink
// carries 5 copies, the most a home connection handles, hence 6 people.
export const MAX_PARTICIPANTS = 6;

/**
 * A WebRTC mesh call inside one session. Signalling travels as stateless
 * messages on the session's own provider; the server stamps who sent each one
 * and mints this connection's peer id (sent back in "welcome").
 */
export class CallSession {
	private readonly provider: CallProvider;
	private readonly listeners = new Set<(event: CallEvent) => void>();
	private readonly links = new Map<string, PeerLink>();
	private readonly remotes = new Map<string, Participant>();
	// Awareness client id → call peer id, so a vanished awareness state can tear its peer down.
	private readonly awarenessPeers = new Map<number, string>();
	private selfPeer: string | null = null;
	private iceServers: RTCIceServer[] = [];
	private localStream: MediaStream | null = null;
	private state: MediaState = { muted: false, camera: false };
	private inCall = false;
	private disconnected = false;
	// Whether "join" went out on the current connection.
	private announced = false;
	private readonly self: { id: string; name: string };

	constructor(provider: CallProvider, self: { id: string; name: string }) {
		this.provider = provider;
		this.self = self;
		provider.on("stateless", this.onStateless);
		provider.on("status", this.onStatus);
		provider.on("authenticated", this.onAuthenticated);
		provider.awareness?.on("change", this.onAwareness);
	}

	get joined(): boolean {
		return this.inCall;
	}

	get media(): MediaState {
		return { ...this.state };
	}

	subscribe(fn: (event: CallEvent) => void): () => void {
		this.listeners.add(fn);
		return () => this.listeners.delete(fn);
	}

	/** Acquires media (falling back to audio-only, then listen-only) and joins. */
	async join(): Promise<void> {
		if (this.inCall) return;
		this.inCall = true;
		this.localStream = await this.acquireMedia();
		const audio = this.localStream.getAudioTracks()[0];
		const video = this.localStream.getVideoTracks()[0];
		this.state = { muted: !audio, camera: Boolean(video) };
		this.emit({ type: "joined" });
		this.emit({ type: "local", state: this.media });
		// Otherwise onAuthenticated announces once the connection is up.
		if (this.provider.isAuthenticated !== false) this.announce();
	}

	leave(): void {
		if (!this.inCall) return;
		this.send({ kind: "leave" });
		this.inCall = false;
		this.announced = false;
		this.selfPeer = null;
		this.provider.awareness?.setLocalStateField("call", null);
		this.closeAllLinks();
		for (const track of this.localStream?.getTracks() ?? []) track.stop();
		this.localStream = null;
		this.emit({ type: "left" });
	}

	async setMuted(muted: boolean): Promise<void> {
		const track = this.localStream?.getAudioTracks()[0];
		if (!track) {
			this.emit({ type: "message", text: "No microphone: you are listening only." });
			return;
		}
		track.enabled = !muted;
		this.state = { ...this.state, muted };
		// Replacing with null stops the packets altogether, not just the sound.
		await Promise.all([...this.links.values()].map((l) => l.setTrack("audio", muted ? null : track, this.stream())));
		this.publishState();
	}

	async setCamera(on: boolean): Promise<void> {
		if (!this.localStream) return;
		for (const track of this.localStream.getVideoTracks()) {
			track.stop();
			this.localStream.removeTrack(track);
		}
		let track: MediaStreamTrack | null = null;
		if (on) {
			try {
				const video = await navigator.mediaDevices.getUserMedia({ video: true });
				track = video.getVideoTracks()[0] ?? null;
			} catch (e: unknown) {
				this.emit({ type: "message", text: `Camera unavailable (${describeMediaError(e)}).` });
			}
			if (track) this.localStream.addTrack(track);
		}
		this.state = { ...this.state, camera: Boolean(track) };
		await Promise.all([...this.links.values()].map((l) => l.setTrack("video", track, this.stream())));
		this.publishState();
	}

	destroy(): void {
		this.leave();
		this.provider.off("stateless", this.onStateless);
		this.provider.off("status", this.onStatus);
		this.provider.off("authenticated", this.onAuthenticated);
		this.provider.awareness?.off("change", this.onAwareness);
		this.listeners.clear();
	}

	private stream(): MediaStream {
		this.localStream ??= new MediaStream();
		return this.localStream;
	}

	private announce(): void {
		this.announced = true;
		this.send({ kind: "join", ...this.state });
	}

	private publishState(): void {
		this.emit({ type: "local", state: this.media });
		this.send({ kind: "state", ...this.state });
	}

	private async acquireMedia(): Promise<MediaStream> {
		const devices = globalThis.navigator?.mediaDevices;
		if (!devices?.getUserMedia) {
			this.emit({
				type: "message",
				text: "This page cannot use a microphone or camera (it needs https): listening only.",
			});
			return new MediaStream();
		}
		try {
			return await devices.getUserMedia({ audio: true, video: true });
		} catch (e: unknown) {
			const reason = describeMediaError(e);
			try {
				const audio = await devices.getUserMedia({ audio: true });
				this.emit({ type: "message", text: `Camera unavailable (${reason}): joined with audio only.` });
				return audio;
			} catch (e2: unknown) {
				this.emit({
					type: "message",
					text: `Microphone and camera unavailable (${describeMediaError(e2)}): you are listening only.`,
				});
				return new MediaStream();
			}
		}
	}

	private send(signal: OutgoingSignal): void {
		this.provider.sendStateless(encodeSignal(signal));
	}

	private emit(event: CallEvent): void {
		for (const fn of this.listeners) fn(event);
	}

	private readonly onStateless = ({ payload }: { payload: string }): void => {
		const signal = parseSignal(payload);
		if (signal) this.handle(signal);
	};

	private handle(signal: IncomingSignal): void {
		if (signal.kind === "welcome") {
			if (!this.inCall) return;
			this.selfPeer = signal.peer;
			this.iceServers = signal.iceServers;
			this.provider.awareness?.setLocalStateField("call", { peer: signal.peer });
			this.emit({
				type: "participant",
				participant: {
					peer: signal.peer,
					userId: this.self.id,
					name: this.self.name,
					self: true,
					stream: this.localStream,
					...this.state,
				},
			});
			return;
		}
		if (signal.kind === "error") {
			this.emit({ type: "message", text: `Call signalling: ${signal.message}` });
			return;
		}
		if (!this.inCall || !this.selfPeer) return;
		const { from } = signal;
		if (from.peer === this.selfPeer) return;
		if ("to" in signal && signal.to !== this.selfPeer) return;
		switch (signal.kind) {
			case "join":
				if (this.ensureLink(from, signal)) this.send({ kind: "present", to: from.peer, ...this.state });
				break;
			case "present":
			case "state":
				this.ensureLink(from, signal);
				break;
			case "description":
				this.ensureLink(from, null)?.handleDescription(signal.description);
				break;
			case "candidate":
				this.links.get(from.peer)?.handleCandidate(signal.candidate);
				break;
			case "leave":
				this.links.get(from.peer)?.close();
				break;
		}
	}

	private ensureLink(from: { peer: string; userId: string; name: string }, media: MediaState | null): PeerLink | null {
		let link = this.links.get(from.peer);
		const known = this.remotes.get(from.peer);
		const participant: Participant = {
			peer: from.peer,
			userId: from.userId,
			name: from.name,
			self: false,
			stream: known?.stream ?? null,
			muted: media?.muted ?? known?.muted ?? false,
			camera: media?.camera ?? known?.camera ?? true,
		};
		if (!link) {
			if (this.links.size >= MAX_PARTICIPANTS - 1) {
				this.emit({ type: "message", text: `The call is full: up to ${MAX_PARTICIPANTS} people.` });
				return null;
			}
			const selfPeer = this.selfPeer as string;
			link = new PeerLink({
				selfPeer,
				remotePeer: from.peer,
				iceServers: this.iceServers,
				send: (s) => this.send(s),
				onStream: (stream) => {
					const p = this.remotes.get(from.peer);
					if (!p) return;
					p.stream = stream;
					this.emit({ type: "participant", participant: { ...p } });
				},
				onClosed: () => {
					this.links.delete(from.peer);
					this.remotes.delete(from.peer);
					this.emit({ type: "participantLeft", peer: from.peer });
				},
			});
			this.links.set(from.peer, link);
			const stream = this.stream();
			const audio = stream.getAudioTracks()[0];
			const video = stream.getVideoTracks()[0];
			link.start(
				{ audio: audio && !this.state.muted ? audio : null, video: video && this.state.camera ? video : null },
				stream,
			);
		}
		this.remotes.set(from.peer, participant);
		this.emit({ type: "participant", participant: { ...participant } });
		return link;
	}

	private closeAllLinks(): void {
		for (const link of [...this.links.values()]) link.close();
	}

	private readonly onStatus = ({ status }: { status: string }): void => {
		if (status === "disconnected") {
			this.disconnected = true;
			this.announced = false;
		}
	};

	// After a reconnect the server has said "leave" for our old peer id and mints a new one:
	// drop every link and announce again, and the others renegotiate with the new id.
	private readonly onAuthenticated = (): void => {
		this.disconnected = false;
		if (!this.inCall || this.announced) return;
		this.closeAllLinks();
		if (this.selfPeer) this.emit({ type: "participantLeft", peer: this.selfPeer });
		this.selfPeer = null;
		this.announce();
	};

	private readonly onAwareness = ({
		removed,
		added,
		updated,
	}: {
		added: number[];
		updated: number[];
		removed: number[];
	}) => {
		const states = this.provider.awareness?.getStates();
		for (const id of [...added, ...updated]) {
			const call = states?.get(id)?.call as { peer?: unknown } | null | undefined;
			const previous = this.awarenessPeers.get(id);
			const peer = typeof call?.peer === "string" ? call.peer : undefined;
			if (previous && previous !== peer) this.links.get(previous)?.close();
			if (peer) this.awarenessPeers.set(id, peer);
			else this.awarenessPeers.delete(id);
		}
		for (const id of removed) {
			const peer = this.awarenessPeers.get(id);
			this.awarenessPeers.delete(id);
			if (peer) this.links.get(peer)?.close();
		}
	};
}

function describeMediaError(e: unknown): string {
	const name = e instanceof Error ? e.name : "";
	if (name === "NotAllowedError" || name === "SecurityError") return "permission denied";
	if (name === "NotFoundError" || name === "OverconstrainedError") return "no device found";
	if (name === "NotReadableError" || name === "AbortError") return "the device is in use or failed";
	return e instanceof Error ? e.message : "unknown error";
}
