import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSection } from "./report-section.ts";

test("a section is replaced in place and other sections are kept", () => {
  const dir = mkdtempSync(join(tmpdir(), "privata-section-"));
  const file = join(dir, "R.md");
  try {
    writeSection("soak", "soak v1", file);
    writeSection("crash-loop", "crash v1", file);
    writeSection("soak", "soak v2", file);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("soak v2");
    expect(text).not.toContain("soak v1");
    expect(text).toContain("crash v1");
    expect(text.indexOf("soak v2")).toBeLessThan(text.indexOf("crash v1"));
    expect(() => writeSection("Bad Name", "x", file)).toThrow();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
