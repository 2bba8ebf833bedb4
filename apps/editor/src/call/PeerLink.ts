import type { OutgoingSignal } from "./signals.ts";

export interface LocalTracks {
	audio: MediaStreamTrack | null;
	video: MediaStreamTrack | null;
}

export interface PeerLinkOptions {
	selfPeer: string;
	remotePeer: string;
	iceServers: RTCIceServer[];
	send: (signal: OutgoingSignal) => void;
	onStream: (stream: MediaStream) => void;
	onClosed: () => void;
}

/**
 * One RTCPeerConnection to one remote peer, negotiated with the "perfect
 * negotiation" pattern: both sides may offer at any time; on glare the polite
 * side (the smaller peer id) rolls back and answers, the impolite side ignores
 * the colliding offer. Signals are handled one at a time in arrival order.
 */
export class PeerLink {
	readonly pc: RTCPeerConnection;
	readonly remotePeer: string;
	private readonly polite: boolean;
	private readonly options: PeerLinkOptions;
	private makingOffer = false;
	private ignoreOffer = false;
	private settingRemoteAnswer = false;
	private queue: Promise<void> = Promise.resolve();
	private remoteStream: MediaStream | null = null;
	// The polite side's tracks until the first offer arrives (see start).
	private pendingTracks: LocalTracks | null = null;
	private localStream: MediaStream | null = null;
	// Candidates that came before any remote description (those of an offer we ignored on glare).
	// The polite side's answer reuses that offer's ICE credentials and does not trickle them again,
	// so dropping them can leave ICE with nothing to check.
	private pendingCandidates: RTCIceCandidateInit[] = [];
	private closed = false;

	constructor(options: PeerLinkOptions) {
		this.options = options;
		this.remotePeer = options.remotePeer;
		this.polite = options.selfPeer < options.remotePeer;
		this.pc = new RTCPeerConnection({ iceServers: options.iceServers });
		this.pc.onnegotiationneeded = () => {
			this.enqueue(() => this.offer());
		};
		this.pc.onicecandidate = ({ candidate }) => {
			if (candidate) options.send({ kind: "candidate", to: this.remotePeer, candidate: candidate.toJSON() });
		};
		this.pc.ontrack = ({ track, streams }) => {
			const stream = streams[0] ?? this.remoteStream ?? new MediaStream();
			if (!stream.getTracks().includes(track)) stream.addTrack(track);
			this.remoteStream = stream;
			options.onStream(stream);
		};
		this.pc.onconnectionstatechange = () => {
			// A failed path (network change, NAT rebinding) gets new candidates; renegotiation follows.
			if (this.pc.connectionState === "failed") this.pc.restartIce();
		};
	}

	/**
	 * Starts the link with the local tracks (null: nothing to send of that kind). Only the
	 * impolite side offers first, with a recvonly transceiver for each kind it does not send so
	 * that it still receives; the polite side adds its tracks when that first offer arrives, and
	 * they join the offered m-lines. Two first offers racing each other is glare that perfect
	 * negotiation would resolve, but it cost a rollback on every join and sometimes left ICE idle.
	 */
	start(tracks: LocalTracks, stream: MediaStream): void {
		this.localStream = stream;
		if (this.polite) {
			this.pendingTracks = { ...tracks };
			return;
		}
		for (const kind of ["audio", "video"] as const) {
			const track = tracks[kind];
			if (track) this.pc.addTrack(track, stream);
			else this.pc.addTransceiver(kind, { direction: "recvonly" });
		}
	}

	/** Sends `track` to this peer, reusing a transceiver of the same kind when there is one. */
	async setTrack(kind: "audio" | "video", track: MediaStreamTrack | null, stream: MediaStream): Promise<void> {
		if (this.pendingTracks) {
			this.pendingTracks[kind] = track;
			return;
		}
		const transceiver = this.pc
			.getTransceivers()
			.find(
				(t) => t.currentDirection !== "stopped" && (t.sender.track?.kind === kind || t.receiver.track.kind === kind),
			);
		if (!transceiver) {
			if (track) this.pc.addTrack(track, stream);
			return;
		}
		await transceiver.sender.replaceTrack(track);
		if (track) {
			transceiver.sender.setStreams(stream);
			// A transceiver made from the remote offer starts recvonly; sending needs a renegotiation.
			if (transceiver.direction === "recvonly") transceiver.direction = "sendrecv";
			else if (transceiver.direction === "inactive") transceiver.direction = "sendonly";
		}
	}

	handleDescription(description: { type: "offer" | "answer"; sdp: string }): void {
		this.enqueue(async () => {
			const readyForOffer = !this.makingOffer && (this.pc.signalingState === "stable" || this.settingRemoteAnswer);
			const collision = description.type === "offer" && !readyForOffer;
			this.ignoreOffer = !this.polite && collision;
			if (this.ignoreOffer) return;
			if (description.type === "offer" && this.pendingTracks && this.localStream) {
				// Added before applying the offer, these transceivers take the offer's m-lines (JSEP 5.10).
				for (const track of [this.pendingTracks.audio, this.pendingTracks.video]) {
					if (track) this.pc.addTrack(track, this.localStream);
				}
				this.pendingTracks = null;
			}
			this.settingRemoteAnswer = description.type === "answer";
			// On glare the polite side's setRemoteDescription rolls its own offer back implicitly.
			await this.pc.setRemoteDescription(description);
			this.settingRemoteAnswer = false;
			const pending = this.pendingCandidates;
			this.pendingCandidates = [];
			for (const c of pending) await this.pc.addIceCandidate(c).catch(() => {});
			if (description.type === "offer") {
				await this.pc.setLocalDescription();
				this.sendLocalDescription();
			}
		});
	}

	handleCandidate(candidate: RTCIceCandidateInit | null): void {
		if (!candidate) return;
		this.enqueue(async () => {
			if (!this.pc.remoteDescription) {
				this.pendingCandidates.push(candidate);
				return;
			}
			try {
				await this.pc.addIceCandidate(candidate);
			} catch (e: unknown) {
				// Candidates of an offer we ignored on glare fail to apply; that is expected.
				if (!this.ignoreOffer) throw e;
			}
		});
	}

	close(): void {
		if (this.closed) return;
		this.closed = true;
		this.pc.onnegotiationneeded = null;
		this.pc.onicecandidate = null;
		this.pc.ontrack = null;
		this.pc.onconnectionstatechange = null;
		this.pc.close();
		this.options.onClosed();
	}

	private async offer(): Promise<void> {
		if (this.closed || this.pc.signalingState !== "stable") return;
		try {
			this.makingOffer = true;
			await this.pc.setLocalDescription();
			this.sendLocalDescription();
		} finally {
			this.makingOffer = false;
		}
	}

	private sendLocalDescription(): void {
		const local = this.pc.localDescription;
		if (!local || (local.type !== "offer" && local.type !== "answer")) return;
		this.options.send({ kind: "description", to: this.remotePeer, description: { type: local.type, sdp: local.sdp } });
	}

	private enqueue(step: () => Promise<void>): void {
		this.queue = this.queue
			.then(() => (this.closed ? undefined : step()))
			.catch((e: unknown) => console.warn("call: negotiation step failed", e));
	}
}
