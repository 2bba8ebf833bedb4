/**
 * Writes the app icons to apps/editor/public/ without any download: a PNG encoder in a few
 * lines (zlib from Node) drawing two overlapping rounded squares, Tandem's mark.
 * `node apps/editor/scripts/makeIcons.ts`
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { deflateSync } from "node:zlib";

const OUT = path.join(import.meta.dirname, "../public");
const BACKGROUND = [0x25, 0x63, 0xeb]; // --accent
const FRONT = [0xff, 0xff, 0xff];
const BACK = [0x93, 0xc5, 0xfd];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});

function crc32(bytes: Buffer): number {
	let c = 0xffffffff;
	for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
	const length = Buffer.alloc(4);
	length.writeUInt32BE(data.length);
	const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(body));
	return Buffer.concat([length, body, crc]);
}

function insideRoundedSquare(x: number, y: number, x0: number, y0: number, size: number, radius: number): boolean {
	const cx = Math.min(Math.max(x, x0 + radius), x0 + size - radius);
	const cy = Math.min(Math.max(y, y0 + radius), y0 + size - radius);
	return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
}

/** `padding` is the share of the edge kept clear (maskable icons need a 10% safe zone each side). */
function icon(size: number, padding: number, roundCorners: boolean): Buffer {
	const rows: Buffer[] = [];
	const inner = size * (1 - 2 * padding);
	const square = inner * 0.62;
	const corner = size * 0.18;
	for (let y = 0; y < size; y++) {
		const row = Buffer.alloc(1 + size * 4);
		for (let x = 0; x < size; x++) {
			const px = x + 0.5;
			const py = y + 0.5;
			let color: number[] | null = BACKGROUND;
			if (roundCorners && !insideRoundedSquare(px, py, 0, 0, size, corner)) color = null;
			const start = size * padding;
			if (color && insideRoundedSquare(px, py, start + inner - square, start + inner - square, square, square * 0.2))
				color = FRONT;
			else if (color && insideRoundedSquare(px, py, start, start, square, square * 0.2)) color = BACK;
			const o = 1 + x * 4;
			if (color) {
				row[o] = color[0] as number;
				row[o + 1] = color[1] as number;
				row[o + 2] = color[2] as number;
				row[o + 3] = 255;
			}
		}
		rows.push(row);
	}
	const header = Buffer.alloc(13);
	header.writeUInt32BE(size, 0);
	header.writeUInt32BE(size, 4);
	header[8] = 8; // bit depth
	header[9] = 6; // RGBA
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk("IHDR", header),
		chunk("IDAT", deflateSync(Buffer.concat(rows), { level: 9 })),
		chunk("IEND", Buffer.alloc(0)),
	]);
}

writeFileSync(path.join(OUT, "icon-192.png"), icon(192, 0.12, true));
writeFileSync(path.join(OUT, "icon-512.png"), icon(512, 0.12, true));
writeFileSync(path.join(OUT, "icon-maskable-512.png"), icon(512, 0.2, false));
writeFileSync(path.join(OUT, "apple-touch-icon.png"), icon(180, 0.12, false));
