import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "./errors.ts";

// Must agree exactly with the media types Hono's json validator reads (it ignores the body of
// any other type and validates {} instead), so the same parsing and pattern are used here.
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/;

/** 415 for a body that is not declared JSON, 400 for no body at all. */
export const requireJson: MiddlewareHandler = async function requireJson(c, next) {
  const media = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!JSON_MEDIA_TYPE.test(media)) {
    throw new ApiError(415, "unsupported_media_type", "the request body must be application/json");
  }
  if (c.req.raw.body === null || c.req.header("content-length") === "0") {
    throw new ApiError(400, "empty_body", "the request body is empty; send a JSON object");
  }
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
