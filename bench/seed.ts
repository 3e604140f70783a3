// Seed the server with N distinct records over HTTP, write the URL and body files the oha runs
// read, and warm the read set.
import { join } from "node:path";

/** Small deterministic PRNG (mulberry32), so a run's data set is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "John", "Radia", "Tim", "Hedy", "Dennis", "Karen", "Linus", "Sophie", "Niklaus", "Anita", "Leslie", "Marie", "Omar", "Yuki", "Chidi", "Ines", "Mateo", "Priya", "Lars", "Fatima", "Jonas"];
const LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Allen", "McCarthy", "Perlman", "Berners-Lee", "Lamarr", "Ritchie", "Jones", "Torvalds", "Wilson", "Wirth", "Borg", "Lamport", "Curie", "Haddad", "Tanaka", "Okafor", "García", "Rossi", "Sharma", "Nilsson", "Benali", "Schmidt"];
const DIAGNOSES = ["Asthma", "COPD", "Type 2 diabetes", "Hypertension", "Migraine", "Atrial fibrillation", "Hypothyroidism", "Osteoarthritis", "Depression", "Eczema", "Coeliac disease", "Gout"];
const MEDS = ["salbutamol", "metformin", "lisinopril", "levothyroxine", "atorvastatin", "amlodipine", "sertraline", "ibuprofen", "omeprazole", "apixaban", "allopurinol", "sumatriptan", "budesonide", "hydrocortisone cream"];
const ACCOUNTS = ["standard", "standard", "standard", "premium", "clinic"];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

function meds(r: () => number): string[] {
  const k = Math.floor(r() * 4); // 0–3
  const out = new Set<string>();
  while (out.size < k) out.add(pick(r, MEDS));
  return [...out];
}

export interface CreateBody {
  firstName: string;
  lastName: string;
  email: string;
  accountType?: string;
  diagnosis?: string | null;
  medications?: string[];
}

/** The i-th distinct record body; `tag` keeps seed and bench-create emails apart. */
export function createBody(i: number, r: () => number, tag = "seed"): CreateBody {
  const firstName = pick(r, FIRST);
  const lastName = pick(r, LAST);
  const local = `${firstName}.${lastName}`.toLowerCase().normalize("NFD").replace(/[^a-z.]/g, "");
  const b: CreateBody = { firstName, lastName, email: `${local}.${tag}${i}@example.org` };
  if (r() < 0.4) b.accountType = pick(r, ACCOUNTS);
  if (r() < 0.85) b.diagnosis = pick(r, DIAGNOSES);
  const m = meds(r);
  if (m.length || r() < 0.5) b.medications = m;
  return b;
}

/** A partial update: one to three of diagnosis, medications, lastName. */
export function updateBody(r: () => number): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (r() < 0.6) b.diagnosis = r() < 0.1 ? null : pick(r, DIAGNOSES);
  if (r() < 0.5) b.medications = meds(r);
  if (r() < 0.3 || Object.keys(b).length === 0) b.lastName = pick(r, LAST);
  return b;
}

/**
 * POST /api/users N times, `concurrency` in flight; returns the ids in creation order.
 * Any non-201 is a harness failure (the data set would be wrong).
 */
export async function seedRecords(
  base: string,
  n: number,
  onProgress: (done: number) => void,
  concurrency = 64,
  headers: Record<string, string> = {},
): Promise<string[]> {
  const ids: string[] = new Array(n);
  const r = rng(0x5eed);
  let next = 0;
  let done = 0;
  const url = `${base}/api/users`;
  async function worker(): Promise<void> {
    while (next < n) {
      const i = next++;
      const body = JSON.stringify(createBody(i, r));
      const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
      const text = await res.text();
      if (res.status !== 201) throw new Error(`seeding: POST /api/users answered ${res.status}: ${text.slice(0, 200)}`);
      const id = (JSON.parse(text) as { id?: unknown }).id;
      if (typeof id !== "string") throw new Error(`seeding: 201 without an id: ${text.slice(0, 200)}`);
      ids[i] = id;
      done++;
      if ((done & 255) === 0) onProgress(done);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  onProgress(done);
  return ids;
}

/** k distinct elements of `all`, chosen at random (partial Fisher–Yates on a copy of indexes). */
export function sample<T>(all: readonly T[], k: number, r: () => number): T[] {
  const n = all.length;
  k = Math.min(k, n);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const out: T[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(r() * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
    out.push(all[idx[i]!]!);
  }
  return out;
}

export interface WorkFiles {
  readUrls: string;
  updateUrls: string;
  listUrls: string;
  createBodies: string;
  updateBodies: string;
  /** the read URLs, for the warm-up */
  readList: string[];
  /** the distinct list URLs, for the warm-up */
  listList: string[];
}

export const READ_SET = 10000;
export const LIST_LINES = 1000;
export const CREATE_LINES = 5000;
export const UPDATE_LINES = 2000;

/** Write the oha inputs into `dir`. */
export async function writeWorkFiles(dir: string, base: string, ids: readonly string[]): Promise<WorkFiles> {
  const r = rng(0xbe7c4);
  const readIds = sample(ids, READ_SET, r);
  const readList = readIds.map((id) => `${base}/api/users/${id}`);
  const list: string[] = [];
  for (let i = 0; i < LIST_LINES; i++) {
    // about 1 in 20 is a first page; the rest start after a random seeded id
    list.push(i % 20 === 0 ? `${base}/api/users?limit=50` : `${base}/api/users?limit=50&cursor=${pick(r, ids)}`);
  }
  const creates: string[] = [];
  for (let i = 0; i < CREATE_LINES; i++) creates.push(JSON.stringify(createBody(i, r, "bench")));
  const updates: string[] = [];
  for (let i = 0; i < UPDATE_LINES; i++) updates.push(JSON.stringify(updateBody(r)));
  const f: WorkFiles = {
    readUrls: join(dir, "read-urls.txt"),
    updateUrls: join(dir, "update-urls.txt"),
    listUrls: join(dir, "list-urls.txt"),
    createBodies: join(dir, "create-bodies.txt"),
    updateBodies: join(dir, "update-bodies.txt"),
    readList,
    listList: [...new Set(list)],
  };
  await Bun.write(f.readUrls, readList.join("\n") + "\n");
  await Bun.write(f.updateUrls, readList.join("\n") + "\n");
  await Bun.write(f.listUrls, list.join("\n") + "\n");
  await Bun.write(f.createBodies, creates.join("\n") + "\n");
  await Bun.write(f.updateBodies, updates.join("\n") + "\n");
  return f;
}

/** GET every URL once (so the read set is in the server's cache); returns non-200 count. */
export async function warm(urls: readonly string[], concurrency = 64, headers: Record<string, string> = {}): Promise<number> {
  let next = 0;
  let bad = 0;
  async function worker(): Promise<void> {
    while (next < urls.length) {
      const res = await fetch(urls[next++]!, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) bad++;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, worker));
  return bad;
}
