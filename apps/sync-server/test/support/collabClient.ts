import { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";
import * as Y from "yjs";

export interface CollabClient {
	readonly doc: Y.Doc;
	readonly provider: HocuspocusProvider;
	readonly socket: HocuspocusProviderWebsocket;
	readonly stateless: string[];
	destroy(): void;
}

/**
 * Connect a real provider. Resolves once synced, or rejects with the refusal reason
 * when authentication fails.
 */
export function connectClient(
	wsUrl: string,
	name: string,
	token: string,
	options: { socket?: HocuspocusProviderWebsocket; doc?: Y.Doc } = {},
): Promise<CollabClient> {
	const socket =
		options.socket ?? new HocuspocusProviderWebsocket({ url: wsUrl, delay: 50, maxDelay: 200, minDelay: 20 });
	const doc = options.doc ?? new Y.Doc();
	const stateless: string[] = [];
	return new Promise((resolve, reject) => {
		const provider = new HocuspocusProvider({
			websocketProvider: socket,
			name,
			document: doc,
			token,
			onStateless: ({ payload }) => {
				stateless.push(payload);
			},
			onAuthenticationFailed: ({ reason }) => {
				provider.destroy();
				if (!options.socket) socket.destroy();
				reject(new Error(`authentication failed: ${reason}`));
			},
			onSynced: () =>
				resolve({
					doc,
					provider,
					socket,
					stateless,
					destroy() {
						provider.destroy();
						if (!options.socket) socket.destroy();
					},
				}),
		});
		provider.attach();
	});
}
