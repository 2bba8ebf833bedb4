import { type Browser, chromium, type LaunchOptions } from "playwright-core";

/** Flags for headless Chromium on a shared CI box: no sandbox (containers), no GPU, no background traffic. */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
	"--no-sandbox",
	"--disable-gpu",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--no-first-run",
	"--disable-quic",
]);

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Launch the system Chromium; `extraArgs` adds flags such as fake media devices. */
export function launchChromium(extraArgs: readonly string[] = [], options: LaunchOptions = {}): Promise<Browser> {
	return chromium.launch({
		executablePath: CHROMIUM_PATH,
		headless: true,
		...options,
		args: [...CHROMIUM_ARGS, ...extraArgs],
	});
}
