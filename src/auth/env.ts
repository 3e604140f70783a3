import type { Principal } from "./keys.ts";
import type { AuditAction } from "../audit/types.ts";

/** What a route tells the audit middleware about the request it handled. */
export interface AuditNote {
  action: AuditAction;
  collection: string | null;
  /** the record's id; the middleware turns it into the pseudonym (ids never reach audit.db) */
  id?: string;
  fields: readonly string[];
}

/** Hono's per-request variables, shared by every router of the app. */
export type AppEnv = {
  /** The Bun server (server.ts passes it to fetch), for the peer's address; absent in app.request(). */
  Bindings: { requestIP?: (req: Request) => { address: string } | null } | undefined;
  Variables: {
    principal: Principal;
    audit: AuditNote | undefined;
    requestId: string;
  };
};
