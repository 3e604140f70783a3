import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "./errors.ts";

// Must agree exactly with the media types Hono's json validator reads (it ignores the body of
// any other type and validates {} instead), so the same parsing and pattern are used here.
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/;

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;
const unsupported = (message: string) => new ApiError(415, "unsupported_media_type", message);

/** 415 for a body that is not plain UTF-8 JSON (other type, charset or content coding). */
export const requireJson: MiddlewareHandler = async function requireJson(c, next) {
  const type = c.req.header("content-type") ?? "";
  if (!JSON_MEDIA_TYPE.test(type.split(";")[0]!.trim().toLowerCase())) throw unsupported("the request body must be application/json");
  const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") throw unsupported("JSON bodies must be UTF-8");
  const coding = c.req.header("content-encoding")?.trim().toLowerCase();
  if (coding && coding !== "identity") throw unsupported("compressed request bodies are not accepted");
  await next();
};

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Runs after the size cap: reads the body once (the validator reuses it) and refuses bytes
 * that are not UTF-8. Decoding them leniently would store U+FFFD instead of what was sent.
 */
export const requireUtf8: MiddlewareHandler = async function requireUtf8(c, next) {
  const bytes = await c.req.arrayBuffer();
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw new ApiError(400, "invalid_encoding", "the request body is not valid UTF-8");
  }
  if (text.trim() === "") throw new ApiError(400, "empty_body", "the request body is empty; send a JSON object");
  // Hand the decoded text to Hono's body cache: its JSON validator would otherwise wrap the
  // cached bytes in a new Response and decode them again (leniently) for every write.
  // (BodyCache is typed as the bodies, but Hono stores and awaits promises of them.)
  (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(text);
  await next();
};

/** Bodies over the cap get a 413 before they are read in full. */
export function limitBody(maxSize: number): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError(413, "payload_too_large", `the request body exceeds ${maxSize} bytes`);
    },
  });
}

/** Registered after a path's real routes: any other method gets 405 with Allow. */
export function methodNotAllowed(allow: string): MiddlewareHandler {
  return async function methodNotAllowed() {
    throw new ApiError(405, "method_not_allowed", "method not allowed on this path", undefined, { Allow: allow });
  };
}
