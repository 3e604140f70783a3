// The WAL files are where recent commits sit in commit order, in both stores: a copy of a
// running data dir could pair the newest identity and clinical halves by that order. The
// checkpoint timer (default 1 s) bounds that window and the WAL size: after a pause in
// writes both WAL files are empty again, without any request.
import { afterAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../src/config.ts";
import { startServer } from "../src/server.ts";
import { removeDir, tempDir, userBody } from "./helpers.ts";

const dir = tempDir();
afterAll(() => removeDir(dir));

function walSize(file: string): number {
  return statSync(join(dir, `${file}-wal`), { throwIfNoEntry: false })?.size ?? 0;
}

test("the checkpoint timer empties both WAL files shortly after writes stop", async () => {
  const parsed = parseConfig(["--port", "0", "--data-dir", dir, "--no-auth"], {});
  if (parsed.help) throw new Error("unexpected help");
  expect(parsed.config.checkpointSeconds).toBe(1); // the default is the window we promise
  const server = startServer(parsed.config);
  try {
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${server.url}/api/users`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(userBody()),
      });
      expect(res.status).toBe(201);
    }
    expect(walSize("identity.db")).toBeGreaterThan(0);
    expect(walSize("clinical.db")).toBeGreaterThan(0);
    await Bun.sleep(2500);
    expect(walSize("identity.db")).toBe(0);
    expect(walSize("clinical.db")).toBe(0);
  } finally {
    await server.shutdown();
  }
});
