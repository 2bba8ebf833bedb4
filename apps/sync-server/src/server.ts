import fastifyCookie from "@fastify/cookie";
import { type Extension, Hocuspocus } from "@hocuspocus/server";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import { registerAuthRoutes } from "./auth/authRoutes.ts";
import { createThrottle, DEFAULT_THROTTLE, type ThrottleLimits } from "./auth/LoginThrottle.ts";
import { requireUser } from "./auth/requestAuth.ts";
import { createTokenService, resolveTokenSecret, type TokenService } from "./auth/tokens.ts";
import type { UserRow } from "./auth/users.ts";
import { SignallingExtension } from "./call/SignallingExtension.ts";
import { AccessWatcher } from "./collab/AccessWatcher.ts";
import { AuthExtension } from "./collab/AuthExtension.ts";
import { attachCollabUpgrade } from "./collab/collabUpgrade.ts";
import { HistoryExtension } from "./collab/HistoryExtension.ts";
import { PersistenceExtension } from "./collab/PersistenceExtension.ts";
import { PresenceExtension } from "./collab/PresenceExtension.ts";
import { RedisSync, redisSyncConfig } from "./collab/RedisSync.ts";
import { TestsLock } from "./collab/TestsLock.ts";
import type { Config } from "./config.ts";
import { type Database, type Db, openDatabase } from "./db/database.ts";
import { registerEventRoutes } from "./events/eventRoutes.ts";
import { createUserEventBus, type UserEventBus } from "./events/UserEvents.ts";
import { registerHistoryRoutes } from "./history/historyRoutes.ts";
import { installErrorHandlers } from "./http/errors.ts";
import { registerHealthRoutes } from "./http/healthRoutes.ts";
import { isAllowedHost, registerHostCheck } from "./http/hostCheck.ts";
import { createServerMetrics, registerMetricsRoutes, type ServerMetrics } from "./http/metrics.ts";
import { registerOpenApi, registerOpenApiRoutes } from "./http/openapi.ts";
import { registerSecurityHeaders } from "./http/securityHeaders.ts";
import { registerStaticRoutes } from "./http/staticRoutes.ts";
import { registerNotesRoutes } from "./interview/notesRoutes.ts";
import { registerQuestionRoutes } from "./interview/questionRoutes.ts";
import type { DocumentStore } from "./persistence/DocumentStore.ts";
import { drizzleDocumentStore } from "./persistence/drizzleDocumentStore.ts";
import { registerInterviewRoutes } from "./sessions/interviewRoutes.ts";
import { GUESS_LIMITS, INVITE_LIMITS, registerSessionRoutes } from "./sessions/sessionRoutes.ts";

export { changeSessionDocument, readSessionDocument, viewSessionDocument } from "./collab/documents.ts";
export { ApiError } from "./http/errors.ts";
export { requireSessionRole } from "./sessions/sessionAccess.ts";
export { isSessionId } from "./sessions/sessionIds.ts";
export { type Role, roleOf } from "./sessions/sessionRepository.ts";

/** Everything a route group or extension needs; handed to `routes` plugins. */
export interface ServerContext {
	readonly config: Config;
	readonly database: Database;
	readonly db: Db;
	readonly store: DocumentStore;
	readonly tokens: TokenService;
	readonly hocuspocus: Hocuspocus;
	/** Live per-user notifications (GET /events); across nodes with REDIS_URL. */
	readonly events: UserEventBus;
	/** The authenticated user of a REST request (Bearer or cookie), or a 401/403 ApiError. */
	requireUser(request: FastifyRequest): Promise<UserRow>;
	/** This node's Prometheus registry (GET /metrics). */
	readonly metrics: ServerMetrics;
	readonly state: { draining: boolean; migrated: boolean };
}

/** A route group added by another domain (e.g. runs): registered after the built-in ones. */
export type RouteGroup = (app: FastifyInstance, ctx: ServerContext) => void | Promise<void>;

export interface ServerDeps {
	/** An open database to use instead of opening the configured one (tests). */
	readonly database?: Database;
	/** Extra Hocuspocus extensions (e.g. call signalling), after auth. */
	readonly extensions?: readonly Extension[];
	/** Extra Hocuspocus extensions that need the context (e.g. to read documents). */
	readonly extensionFactories?: ReadonlyArray<(ctx: ServerContext) => Extension>;
	/** Extra REST route groups. */
	readonly routes?: readonly RouteGroup[];
	readonly throttle?: ThrottleLimits;
	/** Limits on unknown-session lookups per user+IP (RELIABILITY 29). */
	readonly guessThrottle?: ThrottleLimits;
	/** Limits on invitations per inviter (RELIABILITY 50). */
	readonly inviteThrottle?: ThrottleLimits;
	/** Wrap the document store (fault injection in tests, metrics). */
	readonly wrapStore?: (store: DocumentStore) => DocumentStore;
	/** How often open sockets' roles and tokens are re-checked (ms). */
	readonly accessSweepMs?: number;
}

/** How a drain paces itself (issue 13 step 7). */
export interface DrainOptions {
	/** How long readiness is 503 before the first socket closes (ms). */
	readonly delayMs?: number;
	/** How many sockets close per second, in DRAIN_BATCHES_PER_SECOND batches. */
	readonly socketsPerSecond?: number;
	/** Told after each batch: how many sockets it closed and how many are still open. */
	readonly onBatch?: (closed: number, stillOpen: number) => void;
}

/** A drain closes its sockets in this many batches a second (one every 100 ms). */
export const DRAIN_BATCHES_PER_SECOND = 10;

/** A built server: nothing listens until the caller calls `app.listen`. */
export interface TandemServer {
	readonly app: FastifyInstance;
	readonly hocuspocus: Hocuspocus;
	readonly ctx: ServerContext;
	/**
	 * Readiness goes 503 and new sockets are refused at once; pending stores start; after `delayMs` (the balancer
	 * has noticed) sockets close `socketsPerSecond` at a time; then every document is stored and unloaded.
	 * Defaults come from the config (DRAIN_DELAY_MS, DRAIN_SOCKETS_PER_SECOND). Calls after the first share its run.
	 */
	drain(options?: DrainOptions): Promise<void>;
	/** drain(), then close HTTP, Redis and the database. */
	close(): Promise<void>;
}

/**
 * Build Fastify + Hocuspocus on one port without listening: opens and migrates the
 * database and resolves the token secret, then wires REST routes, the `/collab`
 * upgrade, persistence and (with REDIS_URL) the Redis extension.
 */
export async function buildServer(config: Config, deps: ServerDeps = {}): Promise<TandemServer> {
	const database =
		deps.database ??
		openDatabase({
			url: config.databaseUrl,
			dataDir: config.dataDir,
			schema: config.databaseSchema,
			poolMode: config.databasePoolMode,
			poolMax: config.databasePoolMax,
			migrationUrl: config.databaseMigrationUrl,
		});
	const state = { draining: false, migrated: false };
	if (config.migrateOnStart) {
		await database.migrate();
	} else {
		const pending = await database.pendingMigrations();
		if (pending > 0) {
			await database.close().catch(() => {});
			throw new Error(
				`the database lacks ${pending} migration(s) and MIGRATE_ON_START=false: run \`node apps/sync-server/src/migrate.ts\` first`,
			);
		}
	}
	state.migrated = true;
	const tokens = createTokenService(await resolveTokenSecret(database.db, config.tokenSecret), config.tokenTtlSeconds);
	const baseStore = drizzleDocumentStore(database.db);
	const store = deps.wrapStore ? deps.wrapStore(baseStore) : baseStore;

	const extensions: Extension[] = [
		new AuthExtension({ db: database.db, tokens }),
		new PresenceExtension(),
		new TestsLock(),
	];
	if (config.redisUrl) extensions.push(new RedisSync(redisSyncConfig(config.redisUrl, config.redisPrefix)));
	extensions.push(new PersistenceExtension(store));
	extensions.push(new HistoryExtension(database.db));
	extensions.push(
		new SignallingExtension(config.redisUrl ? { redis: { url: config.redisUrl, prefix: config.redisPrefix } } : {}),
	);
	extensions.push(...(deps.extensions ?? []));

	const hocuspocus = new Hocuspocus({
		name: "tandem",
		quiet: true,
		debounce: config.persistDebounceMs,
		maxDebounce: config.persistMaxDebounceMs,
		// RELIABILITY 17: Hocuspocus closes a socket that has not authenticated within `timeout`
		// (an absolute deadline traffic cannot extend) and caps what it may queue meanwhile.
		// It also closes a silent authenticated socket (a half-open one, RELIABILITY 36); the
		// default 45 s is three of the providers' 15 s awareness renewals.
		timeout: config.collabTimeoutMs,
		maxUnauthenticatedQueueSize: 256 * 1024,
		maxUnauthenticatedQueueMessages: 100,
		maxPendingDocuments: 20,
		extensions,
	});

	const app = Fastify({
		logger: config.logLevel === "silent" ? false : { level: config.logLevel },
		bodyLimit: config.bodyLimitBytes,
		// Behind TRUST_PROXY's proxies, request.ip and request.protocol come from X-Forwarded-For and
		// -Proto: throttles count real clients, the cookie is Secure over TLS (issue 13, RELIABILITY 51).
		// The cast only picks the HTTP/1 overload of Fastify(); a hop count and false are accepted as well.
		trustProxy: (Array.isArray(config.trustProxy) ? [...config.trustProxy] : config.trustProxy) as string[],
		return503OnClosing: true,
	});
	const authDeps = { db: database.db, tokens, allowedOrigins: config.allowedOrigins };
	const events = createUserEventBus({ url: config.redisUrl, prefix: config.redisPrefix });
	const ctx: ServerContext = {
		config,
		database,
		db: database.db,
		store,
		tokens,
		hocuspocus,
		events,
		requireUser: (request) => requireUser(authDeps, request),
		metrics: createServerMetrics({ nodeId: config.nodeId, hocuspocus }),
		state,
	};
	for (const factory of deps.extensionFactories ?? []) hocuspocus.configuration.extensions.push(factory(ctx));

	installErrorHandlers(app);
	// Before any route: the OpenAPI document collects every route registered after it.
	await registerOpenApi(app);
	// First, so its request counter sees every route.
	registerMetricsRoutes(app, ctx.metrics, config.metricsToken);
	// Which node answered: for operators behind a load balancer, and its affinity test (decision 054).
	app.addHook("onRequest", async (_request, reply) => {
		reply.header("x-tandem-node", config.nodeId);
	});
	await registerSecurityHeaders(app, config.editorDist);
	registerHostCheck(app, config.allowedHosts);
	registerOpenApiRoutes(app);
	await app.register(fastifyCookie);
	await registerStaticRoutes(app, config.editorDist);
	registerHealthRoutes(app, ctx);
	// With REDIS_URL every node counts into one budget (RELIABILITY 26, 29).
	const shared = { url: config.redisUrl, prefix: config.redisPrefix };
	const throttles = [
		createThrottle("login", deps.throttle ?? DEFAULT_THROTTLE, shared),
		createThrottle("guess", deps.guessThrottle ?? GUESS_LIMITS, shared),
		createThrottle("invite", deps.inviteThrottle ?? INVITE_LIMITS, shared),
	] as const;
	registerAuthRoutes(app, ctx, throttles[0]);
	registerSessionRoutes(app, ctx, throttles[1], throttles[2]);
	registerInterviewRoutes(app, ctx, throttles[1]);
	registerHistoryRoutes(app, ctx);
	registerNotesRoutes(app, ctx);
	registerQuestionRoutes(app, ctx);
	const streams = registerEventRoutes(app, ctx, deps.accessSweepMs ?? 3000);
	for (const group of deps.routes ?? []) await group(app, ctx);

	const sockets = attachCollabUpgrade(app.server, hocuspocus, {
		maxPayloadBytes: config.wsMaxPayloadBytes,
		allowedOrigins: config.allowedOrigins,
		allowedHost: (host) => isAllowedHost(host, config.allowedHosts),
		accepting: () => !state.draining,
	});
	const watcher = new AccessWatcher(database.db, hocuspocus, deps.accessSweepMs ?? 3000);
	app.addHook("onReady", async () => {
		watcher.start();
		await events.ready();
	});

	let drained: Promise<void> | undefined;
	const drain = (options: DrainOptions = {}) => {
		drained ??= (async () => {
			state.draining = true;
			watcher.stop();
			hocuspocus.flushPendingStores();
			// The balancer sees /readyz 503 within its check interval × fall and sends no one here after
			// that; until then reconnecting clients would be sent straight back to this node.
			const delayMs = options.delayMs ?? config.drainDelayMs;
			if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
			streams.closeAll();
			// A bounded rate: a rolling restart of many nodes moves its clients as a trickle, not a storm.
			const perSecond = options.socketsPerSecond ?? config.drainSocketsPerSecond;
			const batch = Math.max(1, Math.ceil(perSecond / DRAIN_BATCHES_PER_SECOND));
			while (sockets.open() > 0) {
				const closed = sockets.closeSome(batch);
				options.onBatch?.(closed, sockets.open());
				if (sockets.open() > 0) await new Promise((r) => setTimeout(r, 1000 / DRAIN_BATCHES_PER_SECOND));
			}
			sockets.closeAll();
			hocuspocus.closeConnections();
			await waitForUnload(hocuspocus);
		})();
		return drained;
	};
	let closed: Promise<void> | undefined;
	const close = () => {
		closed ??= (async () => {
			await drain();
			await app.close();
			await hocuspocus.hooks("onDestroy", { instance: hocuspocus });
			await events.close();
			for (const t of throttles) await t.close?.();
			if (!deps.database) await database.close();
		})();
		return closed;
	};
	return { app, hocuspocus, ctx, drain, close };
}

/** Wait until every document is stored and unloaded, trying pending stores again if one failed. */
async function waitForUnload(hocuspocus: Hocuspocus, deadlineMs = 15_000): Promise<void> {
	const deadline = Date.now() + deadlineMs;
	while (hocuspocus.getDocumentsCount() > 0 && Date.now() < deadline) {
		hocuspocus.flushPendingStores();
		for (const document of hocuspocus.documents.values()) void hocuspocus.unloadDocument(document);
		await new Promise((r) => setTimeout(r, 50));
	}
	if (hocuspocus.getDocumentsCount() > 0) {
		console.error(
			JSON.stringify({
				level: "error",
				msg: "documents still in memory at shutdown",
				count: hocuspocus.getDocumentsCount(),
			}),
		);
	}
}
