// What machine the numbers come from.
import { readFileSync } from "node:fs";
import { cpus, hostname, release, type } from "node:os";
import type { Machine } from "./types.ts";

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export function machineInfo(): Machine {
  const cpuinfo = read("/proc/cpuinfo");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown";
  const memKb = /^MemTotal:\s+(\d+)\s+kB/m.exec(read("/proc/meminfo"))?.[1];
  const pretty = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(read("/etc/os-release"))?.[1];
  return {
    hostname: hostname(),
    cores: navigator.hardwareConcurrency || cpus().length,
    cpuModel: model,
    memoryMb: memKb ? Math.round(Number(memKb) / 1024) : null,
    os: pretty ?? type(),
    kernel: `${type()} ${release()}`,
  };
}
