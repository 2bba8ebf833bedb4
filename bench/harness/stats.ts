/** The q-quantile (0..1) of sorted numbers, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
	if (sorted.length === 0) return Number.NaN;
	const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
	return sorted[rank] as number;
}

/** A number with thousands separators and at most `digits` decimals. */
export function fmt(value: number, digits = 0): string {
	if (!Number.isFinite(value)) return "n/a";
	return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Bytes as KiB or MiB. */
export function fmtBytes(bytes: number): string {
	if (!Number.isFinite(bytes)) return "n/a";
	if (Math.abs(bytes) >= 1024 * 1024) return `${fmt(bytes / 1024 / 1024, 1)} MiB`;
	if (Math.abs(bytes) >= 1024) return `${fmt(bytes / 1024, 1)} KiB`;
	return `${fmt(bytes)} B`;
}

/** A Markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
	const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
	return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
