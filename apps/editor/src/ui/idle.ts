/** Run `task` when the browser has nothing more urgent to do (at most `timeoutMs` later). */
export function whenIdle(task: () => void, timeoutMs: number): void {
	if (typeof requestIdleCallback === "function") requestIdleCallback(() => task(), { timeout: timeoutMs });
	else setTimeout(task, 0);
}

/** Run `task` once the page has loaded and then the browser is idle: work that must not slow start-up. */
export function afterStartup(task: () => void, timeoutMs = 2000): void {
	if (document.readyState === "complete") whenIdle(task, timeoutMs);
	else addEventListener("load", () => whenIdle(task, timeoutMs), { once: true });
}
