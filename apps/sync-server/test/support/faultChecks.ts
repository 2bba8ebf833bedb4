import { readCode } from "@tandem/crdt-schema";
import { expect } from "vitest";
import type { Cluster } from "./cluster.ts";
import { type CollabClient, connectClient } from "./collabClient.ts";
import { api } from "./testServer.ts";
import { holdsAll, markersOnce, within } from "./typists.ts";

/**
 * The steady state after a fault: every replica, the database, GET /session/{id} and a fresh
 * client hold each of `mustHold` exactly once, the seed exactly once, and nothing else twice.
 */
export async function expectEverywhereOnce(options: {
	cluster: Cluster;
	nodeUrl: string;
	wsUrl: string;
	sessionId: string;
	token: string;
	seed: string;
	replicas: readonly CollabClient[];
	mustHold: readonly string[];
}): Promise<void> {
	const { cluster, sessionId, seed, replicas, mustHold } = options;
	await within(
		"every replica holds every marker and they agree",
		() => replicas.every((r) => holdsAll(readCode(r.doc), mustHold) && readCode(r.doc) === readCode(replicas[0]!.doc)),
		20_000,
		() => replicas.map((r) => readCode(r.doc)),
	);
	for (const r of replicas) markersOnce(readCode(r.doc), seed);
	let stored = "";
	await within(
		"the database holds every marker",
		async () => holdsAll((stored = await cluster.storedCode(sessionId)), mustHold),
		20_000,
		() => ({ stored, missing: mustHold.filter((m) => !stored.includes(m)) }),
	);
	markersOnce(stored, seed);

	const view = await api(options.nodeUrl, "GET", `/session/${sessionId}`, { token: options.token });
	expect(view.status).toBe(200);
	expect(holdsAll(view.body.code, mustHold)).toBe(true);
	markersOnce(view.body.code, seed);

	const fresh = await connectClient(options.wsUrl, sessionId, options.token);
	try {
		expect(holdsAll(readCode(fresh.doc), mustHold)).toBe(true);
		markersOnce(readCode(fresh.doc), seed);
	} finally {
		fresh.destroy();
	}
}
