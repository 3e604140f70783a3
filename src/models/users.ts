import { defineModel } from "./types.ts";

/** The seed's User: identity and metadata go to identity.db, clinical fields to clinical.db. */
export const users = defineModel({
  name: "users",
  fields: {
    firstName: { class: "identity", type: "string", min: 1, max: 100, required: true },
    lastName: { class: "identity", type: "string", min: 1, max: 100, required: true, indexed: true },
    // Not unique: families share addresses, and the seed's load generator repeats emails.
    email: { class: "identity", type: "email", max: 254, required: true, indexed: true },
    accountType: { class: "metadata", type: "string", min: 1, max: 32, default: "standard", indexed: true },
    diagnosis: { class: "clinical", type: "string", max: 200, indexed: true },
    medications: { class: "clinical", type: "string[]", maxItems: 50, maxItemLength: 100 },
  },
});
