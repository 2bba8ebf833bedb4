/** A child of `h`: text becomes a text node (never parsed as HTML); null and false are skipped. */
export type Child = Node | string | null | undefined | false;

export type Props = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/**
 * Create an element. `class` sets className, `on<event>` adds a listener, `true` sets an
 * empty attribute, `false`/null/undefined leave it out; everything else is an attribute.
 * User data only ever reaches the DOM as text (RELIABILITY 30).
 */
export function h<K extends keyof HTMLElementTagNameMap>(
	tag: K,
	props: Props | null = null,
	...children: Child[]
): HTMLElementTagNameMap[K] {
	const node = document.createElement(tag);
	if (props) {
		for (const [key, value] of Object.entries(props)) {
			if (value === null || value === undefined || value === false) continue;
			if (typeof value === "function") {
				node.addEventListener(key.slice(2).toLowerCase(), value);
			} else if (key === "class") {
				node.className = String(value);
			} else {
				node.setAttribute(key, value === true ? "" : String(value));
			}
		}
	}
	append(node, children);
	return node;
}

export function append(parent: Node, children: Child[]): void {
	for (const child of children) {
		if (child === null || child === undefined || child === false) continue;
		parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
	}
}

/** Replace all children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
	parent.replaceChildren();
	append(parent, children);
}
