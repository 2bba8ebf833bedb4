import DOMPurify from "dompurify";
import { marked } from "marked";

/**
 * Markdown (notes, question descriptions) as safe HTML: `marked` renders GitHub-flavoured Markdown,
 * DOMPurify removes scripts, event handlers and `javascript:` links. Links open in a new tab without
 * giving it this page (`rel="noopener noreferrer"`).
 */
export function markdownToSafeHtml(markdown: string): string {
	const html = marked.parse(markdown, { async: false, gfm: true, breaks: true });
	const clean = DOMPurify.sanitize(html, { USE_PROFILES: { html: true } });
	const holder = document.createElement("div");
	holder.innerHTML = clean;
	for (const a of holder.querySelectorAll("a")) {
		a.target = "_blank";
		a.rel = "noopener noreferrer";
	}
	return holder.innerHTML;
}

/** Fill `target` with `markdown` rendered safely (see markdownToSafeHtml). */
export function renderMarkdownInto(target: HTMLElement, markdown: string): void {
	target.innerHTML = markdownToSafeHtml(markdown);
}
