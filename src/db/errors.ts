/** Errors of the stores that are nobody's input mistake; the app maps each to a 503. */

/** A record whose identity half exists without its clinical half: the stores disagree. */
export class IncompleteRecordError extends Error {
  override name = "IncompleteRecordError";
  constructor() {
    super("a record's clinical half is missing: the stores are inconsistent");
  }
}

/** The identity half is erased but the clinical step failed; maintenance will finish it. */
export class ErasurePendingError extends Error {
  override name = "ErasurePendingError";
  constructor() {
    super("the record is deleted, but its clinical half could not be removed yet; the server removes it as soon as the store is writable");
  }
}
