/** A person's cursor colours: `color` for the caret and label, `colorLight` for selections. */
export interface UserColors {
	readonly color: string;
	readonly colorLight: string;
}

// FNV-1a: small, stable across browsers, and spreads similar ids (uuid prefixes) apart.
function hash(text: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0;
}

function hslToHex(hue: number, saturation: number, lightness: number): string {
	const s = saturation / 100;
	const l = lightness / 100;
	const a = s * Math.min(l, 1 - l);
	const channel = (n: number) => {
		const k = (n + hue / 30) % 12;
		const value = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
		return Math.round(value * 255)
			.toString(16)
			.padStart(2, "0");
	};
	return `#${channel(0)}${channel(8)}${channel(4)}`;
}

/**
 * The colour of a person, derived from their user id so it is the same in every browser
 * and on every visit. Lightness 42% keeps white label text readable on every hue.
 */
export function userColor(userId: string): UserColors {
	const hue = hash(userId) % 360;
	const color = hslToHex(hue, 70, 42);
	// y-codemirror.next paints selections with colorLight; 0x33 alpha keeps text legible.
	return { color, colorLight: `${color}33` };
}
