import { type CallProvider, CallSession, type Participant } from "./CallSession.ts";
import { watchSpeaking } from "./speaking.ts";

export interface MountCallOptions {
	provider: CallProvider;
	self: { id: string; name: string; color?: string };
}

export interface MountedCall {
	session: CallSession;
	destroy(): void;
}

const STYLE_ID = "tandem-call-style";
// Tiles sit in a strip of their own (the session page's call slot), never over the code.
const CSS = `
.tc-call{display:flex;flex-direction:column;gap:.5rem;font:inherit}
.tc-bar{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}
.tc-bar button{font:inherit;padding:.3rem .7rem;border-radius:.4rem;border:1px solid #8886;background:transparent;color:inherit;cursor:pointer}
.tc-bar button[hidden]{display:none}
.tc-message{margin:0;font-size:.85rem;color:#b45309}
.tc-tiles{display:flex;gap:.5rem;overflow-x:auto;list-style:none;margin:0;padding:0}
.tc-tiles[hidden]{display:none}
.tc-tile{position:relative;flex:0 0 auto;width:10rem;aspect-ratio:4/3;background:#111;border-radius:.4rem;overflow:hidden;outline:3px solid transparent}
.tc-tile[data-speaking="true"]{outline-color:#22c55e}
.tc-tile video{width:100%;height:100%;object-fit:cover}
.tc-tile[data-camera="false"] video{visibility:hidden}
.tc-label{position:absolute;left:0;right:0;bottom:0;display:flex;gap:.3rem;padding:.15rem .35rem;background:#0009;color:#fff;font-size:.75rem}
.tc-name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
@media (max-width:640px){.tc-tile{width:7rem}}
`;

/**
 * Renders the call controls and participant tiles into `container`: "Join
 * call", "Leave", "Mute"/"Unmute", "Camera off"/"Camera on", and a
 * collapsible strip with one tile per participant (name, muted state,
 * speaking indicator). Signalling goes over `provider`.
 */
export function mountCall(container: HTMLElement, options: MountCallOptions): MountedCall {
	ensureStyle(container.ownerDocument);
	const session = new CallSession(options.provider, options.self);
	const doc = container.ownerDocument;
	const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string) => {
		const node = doc.createElement(tag);
		if (cls) node.className = cls;
		if (text !== undefined) node.textContent = text;
		return node;
	};

	const root = el("section", "tc-call");
	root.setAttribute("aria-label", "Call");
	const bar = el("div", "tc-bar");
	const joinButton = el("button", undefined, "Join call");
	const leaveButton = el("button", undefined, "Leave");
	const muteButton = el("button", undefined, "Mute");
	const cameraButton = el("button", undefined, "Camera off");
	const collapseButton = el("button", undefined, "Hide video");
	for (const b of [joinButton, leaveButton, muteButton, cameraButton, collapseButton]) b.type = "button";
	collapseButton.setAttribute("aria-expanded", "true");
	const message = el("p", "tc-message");
	message.setAttribute("role", "status");
	message.setAttribute("aria-live", "polite");
	const tiles = el("ul", "tc-tiles");
	tiles.setAttribute("aria-label", "Call participants");
	bar.append(joinButton, leaveButton, muteButton, cameraButton, collapseButton);
	root.append(bar, message, tiles);
	container.append(root);

	let audioContext: AudioContext | null = null;
	let selfParticipant: Participant | null = null;
	const tileByPeer = new Map<
		string,
		{ li: HTMLLIElement; stopSpeaking: () => void; stream: MediaStream | null; audioTracks: number }
	>();

	const render = () => {
		const joined = session.joined;
		const { muted, camera } = session.media;
		joinButton.hidden = joined;
		leaveButton.hidden = !joined;
		muteButton.hidden = !joined;
		cameraButton.hidden = !joined;
		collapseButton.hidden = !joined;
		muteButton.textContent = muted ? "Unmute" : "Mute";
		muteButton.setAttribute("aria-pressed", String(muted));
		cameraButton.textContent = camera ? "Camera off" : "Camera on";
	};

	const removeTile = (peer: string) => {
		const tile = tileByPeer.get(peer);
		if (!tile) return;
		tile.stopSpeaking();
		tile.li.remove();
		tileByPeer.delete(peer);
	};

	const upsertTile = (p: Participant) => {
		let tile = tileByPeer.get(p.peer);
		if (!tile) {
			const li = el("li", "tc-tile");
			li.dataset.peer = p.peer;
			li.dataset.userId = p.userId;
			const video = el("video");
			video.autoplay = true;
			video.playsInline = true;
			// Our own voice must not play back to us.
			video.muted = p.self;
			const label = el("div", "tc-label");
			const name = el("span", "tc-name", p.self ? `${p.name} (you)` : p.name);
			const state = el("span", "tc-state");
			label.append(name, state);
			li.append(video, label);
			tiles.append(li);
			tile = { li, stopSpeaking: () => {}, stream: null, audioTracks: 0 };
			tileByPeer.set(p.peer, tile);
		}
		const { li } = tile;
		li.dataset.muted = String(p.muted);
		li.dataset.camera = String(p.camera);
		li.setAttribute("aria-label", `${p.name}${p.muted ? ", muted" : ""}${p.camera ? "" : ", camera off"}`);
		const state = li.querySelector(".tc-state");
		if (state) state.textContent = [p.muted ? "Muted" : "", p.camera ? "" : "Camera off"].filter(Boolean).join(" · ");
		const video = li.querySelector("video");
		if (video && p.stream && video.srcObject !== p.stream) {
			video.srcObject = p.stream;
			void video.play().catch(() => {});
		}
		const audioTracks = p.stream?.getAudioTracks().length ?? 0;
		if (p.stream && (tile.stream !== p.stream || tile.audioTracks !== audioTracks)) {
			tile.stopSpeaking();
			tile.stream = p.stream;
			tile.audioTracks = audioTracks;
			tile.stopSpeaking = audioContext
				? watchSpeaking(audioContext, p.stream, (speaking) => {
						li.dataset.speaking = String(speaking);
					})
				: () => {};
		}
	};

	const unsubscribe = session.subscribe((event) => {
		switch (event.type) {
			case "participant":
				if (event.participant.self) selfParticipant = event.participant;
				upsertTile(event.participant);
				break;
			case "participantLeft":
				removeTile(event.peer);
				break;
			case "local":
				if (selfParticipant) {
					selfParticipant = { ...selfParticipant, ...event.state };
					upsertTile(selfParticipant);
				}
				break;
			case "left":
				selfParticipant = null;
				for (const peer of [...tileByPeer.keys()]) removeTile(peer);
				message.textContent = "";
				break;
			case "message":
				message.textContent = event.text;
				break;
			case "joined":
				break;
		}
		render();
	});

	joinButton.addEventListener("click", () => {
		// Created inside the click so the browser lets it run (autoplay policy).
		audioContext ??= new AudioContext();
		void audioContext.resume();
		message.textContent = "";
		void session.join();
	});
	leaveButton.addEventListener("click", () => session.leave());
	muteButton.addEventListener("click", () => void session.setMuted(!session.media.muted));
	cameraButton.addEventListener("click", () => void session.setCamera(!session.media.camera));
	collapseButton.addEventListener("click", () => {
		const expanded = tiles.hidden;
		tiles.hidden = !expanded;
		collapseButton.textContent = expanded ? "Hide video" : "Show video";
		collapseButton.setAttribute("aria-expanded", String(expanded));
	});
	render();

	return {
		session,
		destroy() {
			unsubscribe();
			session.destroy();
			for (const peer of [...tileByPeer.keys()]) removeTile(peer);
			void audioContext?.close();
			root.remove();
		},
	};
}

function ensureStyle(doc: Document): void {
	if (doc.getElementById(STYLE_ID)) return;
	const style = doc.createElement("style");
	style.id = STYLE_ID;
	style.textContent = CSS;
	doc.head.append(style);
}
