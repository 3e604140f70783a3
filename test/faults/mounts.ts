// Real file-system faults need real mounts: a small tmpfs to fill (disk full, read-only at
// start) and a loop-mounted ext4 image that can be made to fail (errors=remount-ro). Both need
// root. Without it these suites FAIL with a message saying so, on purpose: CI runs as root on a
// fresh machine, and a fault suite that quietly skipped would prove nothing.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function run(cmd: string[]): { code: number; out: string } {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  return { code: r.exitCode ?? -1, out: (r.stdout.toString() + r.stderr.toString()).trim() };
}

function must(cmd: string[], why: string): string {
  const r = run(cmd);
  if (r.code !== 0) throw new Error(`${why}: \`${cmd.join(" ")}\` exited ${r.code}: ${r.out}`);
  return r.out;
}

/** Throw a clear error unless this process can mount file systems. */
export function requireRoot(what: string): void {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) {
    throw new Error(`the ${what} fault needs root (it mounts a file system; uid is ${uid}): run this suite as root, as CI does`);
  }
}

/** Mount a tmpfs of `kb` KiB on a new dir under `base`. */
export function mountTmpfs(base: string, kb: number): string {
  const dir = join(base, "mnt");
  mkdirSync(dir, { recursive: true });
  must(["mount", "-t", "tmpfs", "-o", `size=${kb}k,mode=0700`, "tmpfs", dir], "cannot mount a tmpfs for the disk-full fault");
  return dir;
}

export function remount(dir: string, mode: "ro" | "rw"): void {
  must(["mount", "-o", `remount,${mode}`, dir], `cannot remount ${dir} ${mode}`);
}

/** Unmount if mounted (afterAll, also after a failed test); never throws. */
export function unmount(dir: string): void {
  if (run(["mountpoint", "-q", dir]).code !== 0) return;
  if (run(["umount", dir]).code !== 0) run(["umount", "-l", dir]);
}

/** A 32 MiB ext4 image, loop-mounted with errors=remount-ro, as many servers' data disks are. */
export function mountExt4(base: string): { img: string; dir: string } {
  const img = join(base, "disk.img");
  const dir = join(base, "ext4");
  mkdirSync(dir, { recursive: true });
  must(["truncate", "-s", "32M", img], "cannot create the ext4 image");
  must(["mkfs.ext4", "-q", "-F", img], "cannot make the ext4 file system (e2fsprogs)");
  mountImage(img, dir);
  return { img, dir };
}

export function mountImage(img: string, dir: string): void {
  must(["mount", "-o", "loop,errors=remount-ro", img, dir], "cannot loop-mount the ext4 image");
}

/**
 * Make ext4 report an error, as it does for a failing disk or damaged metadata: with
 * errors=remount-ro it aborts its journal and turns read-only at once, under open files, and
 * drops what was written but not yet synced. It cannot be made writable again while mounted.
 */
export function failExt4(dir: string): void {
  const dev = must(["findmnt", "-no", "SOURCE", dir], "cannot find the ext4 device").replace("/dev/", "");
  writeFileSync(`/sys/fs/ext4/${dev}/trigger_fs_error`, "privata fault test\n");
}

/** What an operator does next: unmount, e2fsck, mount again. */
export function repairExt4(img: string, dir: string): string {
  must(["umount", dir], "cannot unmount the failed ext4");
  const fsck = run(["e2fsck", "-fy", img]); // exit 1 = errors corrected: expected here
  if (fsck.code > 1) throw new Error(`e2fsck could not repair the image (exit ${fsck.code}): ${fsck.out}`);
  mountImage(img, dir);
  return fsck.out;
}

export function removeTree(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
