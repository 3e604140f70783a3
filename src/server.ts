import type { Config } from "./config.ts";
import { createApp } from "./app.ts";
import { Stores } from "./db/stores.ts";
import { LruCache } from "./cache/lru.ts";
import { MODELS } from "./models/registry.ts";
import { Authenticator } from "./auth/keys.ts";
import { ensureAdminKey } from "./auth/bootstrap.ts";
import { openAuditTrail, type AuditTrail } from "./audit/open.ts";
import type { AppEnv } from "./auth/env.ts";

export interface Running {
  url: string;
  reconciled: number;
  /** stop accepting, finish in-flight requests, checkpoint, close both stores */
  shutdown: () => Promise<void>;
}

export class ListenError extends Error {
  override name = "ListenError";
}

/**
 * Bun hands a request without a usable Host header (HTTP/1.0, or an empty Host) a relative
 * URL, which routing and URL parsing expect to be absolute: give it this server's origin.
 */
function absolute(req: Request, origin: string): Request {
  return req.url.charCodeAt(0) === 47 /* "/" */ ? new Request(origin + req.url, req) : req;
}

/** Listen, then open the stores. Shared by main.ts and tests that need real sockets. */
export function startServer(config: Config): Running {
  // Bind first: a busy port or a bad host must fail before any file (stores, a new link key)
  // is created. No request can run before the stores are open: nothing below yields.
  let fetch: (req: Request, env: AppEnv["Bindings"]) => Response | Promise<Response> = () => new Response(null, { status: 503 });
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: config.host,
      port: config.port,
      // Bun's default is development mode (NODE_ENV is unset, and "development" in a compiled
      // binary), which answers an error that escapes the app with a page showing its stack.
      development: false,
      // The server as the app's env: the failed-authentication limit asks it for the peer's
      // address. It knows only the request it was handed, so a rewritten one asks for that.
      fetch: (req, srv) => {
        const abs = absolute(req, origin);
        return fetch(abs, abs === req ? srv : { requestIP: () => srv.requestIP(req) });
      },
      // No transport cap below the app's: Bun's own 413 has no JSON body. The app's bodyLimit
      // refuses an over-cap Content-Length before reading and stops a chunked body at the cap.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      // Bun's own limit on the request head (16 KiB) answers 431 past it.
      ...(config.tlsCert && config.tlsKey ? { tls: { cert: Bun.file(config.tlsCert), key: Bun.file(config.tlsKey) } } : {}),
    });
  } catch (err) {
    throw new ListenError(`cannot listen on ${config.host}:${config.port}: ${(err as Error).message.split("\n")[0]}`);
  }
  const origin = server.url.origin;
  let stores: Stores;
  try {
    stores = Stores.open({ ...config, models: MODELS });
  } catch (err) {
    void server.stop(true);
    throw err;
  }
  let audit: AuditTrail;
  try {
    audit = openAuditTrail(config.dataDir, config.auditKeyFile, config.durability, stores.identity.meta, (ids) => stores.auditPseudonymsHex(ids));
    // --no-auth (loopback only) needs no key; a later start with keys creates the first one then
    const told = config.noAuth ? null : ensureAdminKey(stores.keys, config.dataDir, config.adminKey);
    if (told) console.error(`privata: ${told}`);
  } catch (err) {
    stores.close();
    void server.stop(true);
    throw err;
  }
  // --cache-bytes bounds the whole cache: a third for whole list pages, the rest for records
  // (the default of 96 MiB keeps the 64 MiB records had before pages were cached; a page is
  // counted its joined size plus 4 bytes a record: a third holds ~2 200 pages like the bench's)
  const pageBytes = Math.floor(config.cacheBytes / 3);
  const cache = new LruCache(config.cacheEntries, config.cacheBytes - pageBytes, pageBytes);
  const auth = config.noAuth ? null : new Authenticator(stores.keys);
  // chaining and inserting events off the event loop (~3.5 µs each on it)
  audit.startThread(stores.linkKey);
  fetch = createApp({ stores, cache, models: MODELS, ...config, auth, audit, tls: config.tlsCert !== undefined }).fetch;

  // WAL checkpoints run on their own thread; pending cleanup after a failed write on a timer.
  stores.startCheckpoints(config.checkpointSeconds * 1000, config.durability, [audit.store.db.filename]);
  const timer = setInterval(() => {
    try {
      stores.maintain();
    } catch (err) {
      // retried on the next tick; never crash the server for it
      console.error(`privata: maintenance failed (${(err as Error).name})`);
    }
  }, config.checkpointSeconds * 1000);
  let stopping: Promise<void> | null = null;
  const shutdown = () =>
    (stopping ??= (async () => {
      clearInterval(timer);
      const force = setTimeout(() => void server.stop(true), 10_000);
      // One event-loop turn first: stop() closes every connection that has no request in
      // progress, and a request whose bytes already sit in the socket buffer (sent before the
      // signal, not yet read) counts as none, so it got a reset instead of its answer
      // (test/shutdown.test.ts). The turn lets the loop read and start those requests.
      await new Promise((resolve) => setTimeout(resolve, 0));
      await server.stop(); // stops listening; resolves when in-flight requests have finished
      clearTimeout(force);
      // every answered request's audit event is written before the files close (and before
      // stores.close() lets go of the data dir, so no other server can open audit.db meanwhile)
      await audit.close();
      stores.close();
    })());
  return { url: server.url.href.replace(/\/$/, ""), reconciled: stores.reconciled, shutdown };
}
