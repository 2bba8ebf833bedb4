import { createServer, type Server } from "node:net";

/**
 * Host uids for boxes (RELIABILITY 49): every live box runs under a uid no other live box on this host
 * holds (as isolate gives each box its own uid), so one box's processes cannot read another's /proc
 * files, ptrace it, or share its kernel keyrings, and no other host account (`nobody`) owns them.
 *
 * A uid is leased host-wide by binding an abstract unix socket named after it: the kernel lets one
 * process bind a name at a time and frees it when that process dies, so runners, sync servers and
 * test processes on one host never hand out the same uid, and a crashed process leaks nothing.
 * A process keeps its leases and reuses them for its later boxes.
 */

/** First host uid for boxes, from isolate's default (60000); RUNNER_BOX_UID_BASE overrides it. */
export const DEFAULT_BOX_UID_BASE = 60_000;
/** How many uids the range holds: boxes live at once on the host, all processes together; RUNNER_BOX_UIDS. */
export const DEFAULT_BOX_UID_COUNT = 2_000;
const LEASE_PREFIX = "\0tandem-box-uid-";

export interface UidRange {
	readonly base: number;
	readonly count: number;
}

/** Reads RUNNER_BOX_UID_BASE and RUNNER_BOX_UIDS; throws a clear RangeError for a bad value or a range touching root or nobody. */
export function boxUidRange(env: Record<string, string | undefined> = process.env): UidRange {
	const parse = (name: string, fallback: number) => {
		const raw = env[name];
		if (raw === undefined || raw === "") return fallback;
		const n = Number(raw);
		if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n))
			throw new RangeError(`${name} must be a whole number, got ${raw}`);
		return n;
	};
	const base = parse("RUNNER_BOX_UID_BASE", DEFAULT_BOX_UID_BASE);
	const count = parse("RUNNER_BOX_UIDS", DEFAULT_BOX_UID_COUNT);
	if (base < 1000 || count < 1 || base + count > 4_294_967_294 || (base <= 65534 && 65534 < base + count)) {
		throw new RangeError(
			`box uid range ${base}..${base + count - 1} must lie within 1000..4294967293 and leave out nobody (65534)`,
		);
	}
	return { base, count };
}

let range: UidRange | undefined;
const leases = new Map<number, Server>();
const free: number[] = [];
let cursor = 0;

function tryLease(uid: number): Promise<boolean> {
	return new Promise((resolve) => {
		const server = createServer();
		server.once("error", () => resolve(false));
		server.listen({ path: `${LEASE_PREFIX}${uid}` }, () => {
			server.unref();
			leases.set(uid, server);
			resolve(true);
		});
	});
}

/** A uid for one box, held until {@link releaseBoxUid}. Throws when every uid of the range is in use. */
export async function acquireBoxUid(): Promise<number> {
	const reuse = free.pop();
	if (reuse !== undefined) return reuse;
	range ??= boxUidRange();
	// Start where the last search ended (plus this process's pid) so processes rarely probe the same uids.
	if (cursor === 0) cursor = process.pid % range.count;
	for (let tried = 0; tried < range.count; tried++) {
		const uid = range.base + ((cursor + tried) % range.count);
		if (leases.has(uid)) continue;
		if (await tryLease(uid)) {
			cursor = (cursor + tried + 1) % range.count;
			return uid;
		}
	}
	throw new Error(
		`runner: all ${range.count} box uids from ${range.base} are in use on this host (raise RUNNER_BOX_UIDS)`,
	);
}

/** Gives a uid back once its box's processes are all gone (its cgroup is removed). */
export function releaseBoxUid(uid: number): void {
	if (leases.has(uid) && !free.includes(uid)) free.push(uid);
}
