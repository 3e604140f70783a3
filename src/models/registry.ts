import type { ModelDef } from "./types.ts";
import { users } from "./users.ts";

/** Every shipped model. Adding a model means adding its file and one entry here. */
export const MODELS: readonly ModelDef[] = [users];
