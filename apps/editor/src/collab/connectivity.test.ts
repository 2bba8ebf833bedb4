import { afterEach, describe, expect, it } from "vitest";
import {
	type Connectivity,
	connectivity,
	OFFLINE_RUN_MESSAGE,
	onConnectivity,
	setSessionConnectionDown,
} from "./connectivity.ts";

afterEach(() => setSessionConnectionDown(false));

describe("connectivity for Run and Run tests", () => {
	it("is online with no reason while the session connection is up", () => {
		expect(connectivity()).toEqual({ online: true, reason: null });
	});

	it("says why runs are unavailable when the session connection goes down, and recovers", () => {
		const seen: Connectivity[] = [];
		const stop = onConnectivity((state) => seen.push(state));
		setSessionConnectionDown(true);
		setSessionConnectionDown(true);
		setSessionConnectionDown(false);
		stop();
		setSessionConnectionDown(true);
		expect(seen).toEqual([
			{ online: true, reason: null },
			{ online: false, reason: OFFLINE_RUN_MESSAGE },
			{ online: true, reason: null },
		]);
		expect(OFFLINE_RUN_MESSAGE).toMatch(/offline/i);
	});
});
