// RMS of a normalised time-domain frame above which a voice counts as speaking;
// room noise from a typical microphone sits near 0.005, speech well above 0.02.
const SPEAKING_RMS = 0.02;
const POLL_MS = 150;

/**
 * Watches a stream's audio with a WebAudio analyser and reports speaking
 * changes. Returns a function that stops watching.
 */
export function watchSpeaking(
	context: AudioContext,
	stream: MediaStream,
	onChange: (speaking: boolean) => void,
): () => void {
	if (stream.getAudioTracks().length === 0) return () => {};
	const source = context.createMediaStreamSource(stream);
	const analyser = context.createAnalyser();
	analyser.fftSize = 512;
	source.connect(analyser);
	const frame = new Float32Array(analyser.fftSize);
	let speaking = false;
	const timer = setInterval(() => {
		analyser.getFloatTimeDomainData(frame);
		let sum = 0;
		for (const v of frame) sum += v * v;
		const now = Math.sqrt(sum / frame.length) > SPEAKING_RMS;
		if (now !== speaking) {
			speaking = now;
			onChange(now);
		}
	}, POLL_MS);
	return () => {
		clearInterval(timer);
		source.disconnect();
	};
}
