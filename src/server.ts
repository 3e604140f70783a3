import type { Config } from "./config.ts";
import { createApp } from "./app.ts";
import { Stores } from "./db/stores.ts";
import { LruCache } from "./cache/lru.ts";
import { MODELS } from "./models/registry.ts";

export interface Running {
  url: string;
  reconciled: number;
  /** stop accepting, finish in-flight requests, checkpoint, close both stores */
  shutdown: () => Promise<void>;
}

/** Open the stores and listen. Shared by main.ts and tests that need real sockets. */
export function startServer(config: Config): Running {
  const stores = Stores.open({ ...config, models: MODELS });
  const cache = new LruCache(config.cacheEntries, config.cacheBytes);
  const app = createApp({ stores, cache, models: MODELS, ...config });
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: config.host,
      port: config.port,
      fetch: app.fetch,
      // No transport cap below the app's: Bun's own 413 has no JSON body. The app's bodyLimit
      // refuses an over-cap Content-Length before reading and stops a chunked body at the cap.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    });
  } catch (err) {
    stores.close();
    throw err;
  }
  // WAL checkpoints run on a timer, off the request path, so the WAL stays bounded.
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
      await server.stop(); // stops listening; resolves when in-flight requests have finished
      clearTimeout(force);
      stores.close();
    })());
  return { url: server.url.href.replace(/\/$/, ""), reconciled: stores.reconciled, shutdown };
}
