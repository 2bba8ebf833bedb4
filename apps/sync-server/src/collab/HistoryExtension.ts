import type {
	afterLoadDocumentPayload,
	connectedPayload,
	Extension,
	onChangePayload,
	onDisconnectPayload,
} from "@hocuspocus/server";
import { readLanguage } from "@tandem/crdt-schema";
import type * as Y from "yjs";
import type { Db } from "../db/database.ts";
import { clientsOfUpdate, type RecordedKind, recordClients, recordEvent } from "../history/historyRepository.ts";
import { isSessionId } from "../sessions/sessionIds.ts";
import { isCollabContext } from "./collabContext.ts";

/**
 * Records a session's history events as they happen on this node (SPEC CS11, CS13): who joins and
 * leaves, language switches (with the user whose change made them), and which user each Yjs client
 * id belongs to (for authorship). Only changes made on this node are recorded (a change arriving
 * from another node through Redis has no connection here), so two nodes never record one event
 * twice. A failed write is logged, never fatal: history is a record, not the document.
 */
export class HistoryExtension implements Extension {
	readonly extensionName = "tandem-history";
	private readonly db: Db;
	private readonly languages = new WeakMap<Y.Doc, string>();
	/** Client ids already recorded, per document (a few per session: one per editor tab). */
	private readonly knownClients = new WeakMap<Y.Doc, Set<number>>();

	constructor(db: Db) {
		this.db = db;
	}

	async afterLoadDocument({ document }: afterLoadDocumentPayload): Promise<void> {
		this.languages.set(document, readLanguage(document));
		this.knownClients.set(document, new Set());
	}

	async onChange({ document, documentName, update, context }: onChangePayload): Promise<void> {
		if (!isSessionId(documentName)) return;
		const language = readLanguage(document);
		const previous = this.languages.get(document);
		this.languages.set(document, language);
		if (!isCollabContext(context)) return;
		const server = (context as { server?: unknown }).server === true;
		const userId = server ? null : context.user.id;
		if (previous !== undefined && previous !== language) {
			this.write(recordEvent(this.db, documentName, "language", userId, { language, from: previous }));
		}
		if (server || userId === null) return;
		const known = this.knownClients.get(document) ?? new Set<number>();
		this.knownClients.set(document, known);
		const fresh = clientsOfUpdate(update).filter((c) => !known.has(c));
		if (fresh.length === 0) return;
		for (const c of fresh) known.add(c);
		this.write(recordClients(this.db, documentName, userId, fresh));
	}

	async connected({ context, documentName }: connectedPayload): Promise<void> {
		this.presence("join", documentName, context);
	}

	async onDisconnect({ context, documentName }: onDisconnectPayload): Promise<void> {
		this.presence("leave", documentName, context);
	}

	private presence(kind: RecordedKind, documentName: string, context: unknown): void {
		if (!isSessionId(documentName) || !isCollabContext(context)) return;
		if ((context as { server?: unknown }).server === true) return;
		this.write(recordEvent(this.db, documentName, kind, context.user.id));
	}

	private write(pending: Promise<void>): void {
		pending.catch((e: unknown) => {
			console.error(JSON.stringify({ level: "warn", msg: "history event not recorded", err: String(e) }));
		});
	}
}
