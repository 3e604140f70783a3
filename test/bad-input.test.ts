// Guarantee 6: any malformed, oversized or hostile request gets a 4xx JSON error in the one
// shape, never a 500 or a stack trace, and changes nothing.
import { describe, test, expect, afterAll, beforeAll } from "bun:test";
import { makeApp, removeDir, userBody, type TestApp } from "./helpers.ts";

type Rec = Record<string, any>;
const JSON_CT = { "content-type": "application/json" };
const MISSING = "0190a6c8-0000-7000-8000-000000000000"; // a well-formed UUIDv7 no record has

interface Case {
  name: string;
  method: string;
  /** "{id}" is replaced by the seeded record's id */
  path: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  status: number;
  code?: string;
  check?: (err: Rec, res: Response) => void;
}

const apps: TestApp[] = [];
afterAll(() => {
  for (const t of apps) {
    t.close();
    removeDir(t.dataDir);
  }
});

async function send(t: TestApp, c: Case, id: string): Promise<Response> {
  const init: RequestInit = { method: c.method, headers: c.headers ?? (c.body === undefined ? {} : JSON_CT) };
  if (c.body !== undefined) init.body = c.body;
  return t.app.request(c.path.replace("{id}", id), init);
}

/** The one error shape, no stack, no 500. */
function expectErrorShape(text: string, res: Response, status: number): Rec {
  expect(res.status).not.toBe(500);
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type") ?? "").toContain("application/json");
  expect(text).not.toContain("Error:");
  expect(text).not.toMatch(/\bat \S+ \(|\bat \S+:\d+:\d+|\n\s+at /);
  const body = JSON.parse(text);
  expect(Object.keys(body)).toEqual(["error"]);
  const err = body.error;
  expect(typeof err.code).toBe("string");
  expect(typeof err.message).toBe("string");
  expect(err.message.length).toBeGreaterThan(0);
  for (const k of Object.keys(err)) expect(["code", "message", "issues"]).toContain(k);
  if ("issues" in err) {
    expect(Array.isArray(err.issues)).toBe(true);
    for (const i of err.issues) {
      expect(Array.isArray(i.path)).toBe(true);
      expect(typeof i.code).toBe("string");
      expect(typeof i.message).toBe("string");
    }
  }
  return err;
}

/** Everything observable about the stored data: counts, every record (read from the stores). */
async function snapshot(t: TestApp): Promise<Rec> {
  t.cache.clear();
  const stats = (await (await t.req("GET", "/stats")).json()) as Rec;
  const list = await (await t.req("GET", "/api/users?limit=500")).json();
  return { database: stats.database, list };
}

const issue = (field: string, code?: string) => (err: Rec) => {
  const hit = (err.issues ?? []).find((i: Rec) => i.path[0] === field && (code === undefined || i.code === code));
  expect(hit).toBeDefined();
};
const named = (field: string) => (err: Rec) => {
  issue(field, "unknown_field")(err);
  expect(err.message).toContain(field);
};
const allow = (value: string) => (_: Rec, res: Response) => expect(res.headers.get("allow")).toBe(value);

const valid = () => userBody();
const j = (v: unknown) => JSON.stringify(v);
const x = (n: number) => "x".repeat(n);

// Bodies that every write path must refuse. [name, body, status, code, check]
type BodyCase = [string, string, number, string?, Case["check"]?];
const createBodies: BodyCase[] = [
  ["malformed JSON", '{"firstName": "A",', 400, "malformed_json"],
  ["empty body", "", 400],
  ["JSON array", j([valid()]), 400, "validation_failed"],
  ["JSON string", j("hello"), 400, "validation_failed"],
  ["JSON null", "null", 400, "validation_failed"],
  ["JSON number", "42", 400, "validation_failed"],
  ["unknown field", j({ ...valid(), favouriteColour: "blue" }), 400, "validation_failed", named("favouriteColour")],
  ["prototype key", '{"__proto__":{"admin":true},"firstName":"A","lastName":"B","email":"a@b.org"}', 400, "validation_failed"],
  ["server-owned id", j({ ...valid(), id: MISSING }), 400, "validation_failed", issue("id", "server_owned_field")],
  ["server-owned createdAt", j({ ...valid(), createdAt: "2020-01-01T00:00:00.000Z" }), 400, "validation_failed", issue("createdAt", "server_owned_field")],
  ["server-owned updatedAt", j({ ...valid(), updatedAt: "2020-01-01T00:00:00.000Z" }), 400, "validation_failed", issue("updatedAt", "server_owned_field")],
  ["number for firstName", j({ ...valid(), firstName: 123 }), 400, "validation_failed", issue("firstName")],
  ["string for medications", j({ ...valid(), medications: "Aspirin" }), 400, "validation_failed", issue("medications")],
  ["numbers in medications", j({ ...valid(), medications: [1, 2] }), 400, "validation_failed", issue("medications")],
  ["object for diagnosis", j({ ...valid(), diagnosis: { a: 1 } }), 400, "validation_failed", issue("diagnosis")],
  ["null accountType", j({ ...valid(), accountType: null }), 400, "validation_failed", issue("accountType")],
  ["null medications", j({ ...valid(), medications: null }), 400, "validation_failed", issue("medications")],
  ["firstName 101 chars", j({ ...valid(), firstName: x(101) }), 400, "validation_failed", issue("firstName")],
  ["empty lastName", j({ ...valid(), lastName: "" }), 400, "validation_failed", issue("lastName")],
  ["accountType 33 chars", j({ ...valid(), accountType: x(33) }), 400, "validation_failed", issue("accountType")],
  ["diagnosis 201 chars", j({ ...valid(), diagnosis: x(201) }), 400, "validation_failed", issue("diagnosis")],
  ["51 medications", j({ ...valid(), medications: Array.from({ length: 51 }, (_, i) => `m${i}`) }), 400, "validation_failed", issue("medications")],
  ["a medication of 101 chars", j({ ...valid(), medications: ["ok", x(101)] }), 400, "validation_failed", issue("medications")],
  ["invalid email", j({ ...valid(), email: "not-an-email" }), 400, "validation_failed", issue("email")],
  // SQLite would store U+FFFD for a lone surrogate, so a read would differ from the write
  ["lone surrogate in firstName", '{"firstName":"x\\ud800y","lastName":"B","email":"a@b.org"}', 400, "validation_failed", issue("firstName")],
  ["lone surrogate in a medication", j({ ...valid(), medications: ["ok", "x\udc00"] }), 400, "validation_failed", issue("medications")],
  ["lone surrogate in email", '{"firstName":"A","lastName":"B","email":"a\\ud800b@example.org"}', 400, "validation_failed", issue("email")],
  ["control character in email", j({ ...valid(), email: "a\u001bb@example.org" }), 400, "validation_failed", issue("email")],
    ["NUL in firstName", j({ ...valid(), firstName: "a\u0000b" }), 400, "validation_failed", issue("firstName")],
  ["newline in diagnosis", j({ ...valid(), diagnosis: "a\nb" }), 400, "validation_failed", issue("diagnosis")],
  ["zero-width-only lastName", j({ ...valid(), lastName: "\u200b" }), 400, "validation_failed", issue("lastName")],
  ["blank firstName", j({ ...valid(), firstName: " \t " }), 400, "validation_failed", issue("firstName")],
];
const requiredMissing: BodyCase[] = [
  ["no fields", "{}", 400, "validation_failed", issue("firstName")],
  ...["firstName", "lastName", "email"].map((f): BodyCase => {
    const b = valid();
    delete b[f];
    return [`missing ${f}`, j(b), 400, "validation_failed", issue(f)];
  }),
];
const updateOnly: BodyCase[] = [
  ["empty object", "{}", 400, "validation_failed"],
  ["null firstName", j({ firstName: null }), 400, "validation_failed", issue("firstName")],
];

const cases: Case[] = [];
const bodyCase = (method: string, path: string) => ([name, body, status, code, check]: BodyCase): Case =>
  ({ name: `${method} ${path}: ${name}`, method, path, body, status, code, check });
cases.push(...[...createBodies, ...requiredMissing].map(bodyCase("POST", "/api/users")));
for (const m of ["PUT", "PATCH"]) {
  // a create-only "missing field" is fine for a partial update, so only the other bodies
  cases.push(...[...createBodies, ...updateOnly].map(bodyCase(m, "/api/users/{id}")));
}
for (const [m, path] of [["POST", "/api/users"], ["PUT", "/api/users/{id}"], ["PATCH", "/api/users/{id}"]] as const) {
  const body = j(valid());
  cases.push(
    { name: `${m}: text/plain`, method: m, path, body, headers: { "content-type": "text/plain" }, status: 415, code: "unsupported_media_type" },
    { name: `${m}: form`, method: m, path, body: "firstName=A&lastName=B&email=a%40b.org", headers: { "content-type": "application/x-www-form-urlencoded" }, status: 415 },
    { name: `${m}: no content-type`, method: m, path, body, headers: {}, status: 415 },
    { name: `${m}: no body at all`, method: m, path, headers: JSON_CT, status: 400 },
    { name: `${m}: whitespace body`, method: m, path, body: "  \n ", status: 400, code: "empty_body" },
    { name: `${m}: bytes that are not UTF-8`, method: m, path, body: new Uint8Array([...Buffer.from('{"firstName":"Ren'), 0xe9, ...Buffer.from('","lastName":"B","email":"a@b.org"}')]), status: 400, code: "invalid_encoding" },
    { name: `${m}: charset latin1`, method: m, path, body, headers: { "content-type": "application/json; charset=latin1" }, status: 415, code: "unsupported_media_type" },
    { name: `${m}: gzip content coding`, method: m, path, body, headers: { ...JSON_CT, "content-encoding": "gzip" }, status: 415, code: "unsupported_media_type" },
    { name: `${m}: ~100 KiB body over the default cap`, method: m, path, body: j({ ...valid(), diagnosis: x(100 * 1024) }), status: 413, code: "payload_too_large" },
    { name: `${m}: over the cap with content-length`, method: m, path, body: j({ ...valid(), diagnosis: x(70 * 1024) }), headers: { ...JSON_CT, "content-length": String(70 * 1024 + 200) }, status: 413 },
  );
}
for (const bad of ["not-a-uuid", "123", "0190a6c8-0000-7000-8000-00000000000", "%27%20OR%201%3D1--", MISSING]) {
  cases.push(
    { name: `GET id ${bad}`, method: "GET", path: `/api/users/${bad}`, status: 404, code: "not_found" },
    { name: `PUT id ${bad}`, method: "PUT", path: `/api/users/${bad}`, body: j({ lastName: "Z" }), status: 404, code: "not_found" },
    { name: `PATCH id ${bad}`, method: "PATCH", path: `/api/users/${bad}`, body: j({ lastName: "Z" }), status: 404, code: "not_found" },
    { name: `DELETE id ${bad}`, method: "DELETE", path: `/api/users/${bad}`, status: 404, code: "not_found" },
    { name: `DELETE gdpr id ${bad}`, method: "DELETE", path: `/api/users/${bad}?gdprCompliant=true`, status: 404, code: "not_found" },
  );
  // a malformed id is judged first: 404 whatever the body or query (a well-formed id of a
  // missing record is looked up only after its body is validated)
  if (bad !== MISSING) cases.push(
    { name: `PUT id ${bad} with an invalid body`, method: "PUT", path: `/api/users/${bad}`, body: j({ bogus: 1 }), status: 404, code: "not_found" },
    { name: `PATCH id ${bad} with a text body`, method: "PATCH", path: `/api/users/${bad}`, body: "x", headers: { "content-type": "text/plain" }, status: 404, code: "not_found" },
    { name: `DELETE id ${bad} with a bad query`, method: "DELETE", path: `/api/users/${bad}?gdprCompliant=maybe`, status: 404, code: "not_found" },
    { name: `GET id ${bad} with a query`, method: "GET", path: `/api/users/${bad}?x=1`, status: 404, code: "not_found" },
  );
}
const badQueries: [string, string?][] = [
  ["foo=bar", "foo"], ["firstName=A", "firstName"], ["medications=X", "medications"], ["id={id}", "id"],
  ["createdAt=2020", "createdAt"], ["limit=0"], ["limit=501"], ["limit=abc"], ["limit=-1"], ["limit=1.5"],
  ["limit="], ["limit=1e9"], ["limit=0x2"], ["limit=1e2"], ["limit=%205"], ["cursor=abc"], ["cursor="], ["lastName=A&lastName=B"], ["limit=5&limit=6"],
  ["diagnosis=Asthma&diagnosis=Flu"], [`diagnosis=${x(201)}`],
];
for (const [q, field] of badQueries) {
  cases.push({ name: `list ?${q}`, method: "GET", path: `/api/users?${q}`, status: 400, code: "validation_failed", check: field ? issue(field) : undefined });
}
cases.push(
  { name: "DELETE unknown query param", method: "DELETE", path: "/api/users/{id}?force=true", status: 400, code: "validation_failed", check: issue("force") },
  { name: "DELETE gdprCompliant=yes", method: "DELETE", path: "/api/users/{id}?gdprCompliant=yes", status: 400, code: "validation_failed" },
  { name: "DELETE repeated gdprCompliant", method: "DELETE", path: "/api/users/{id}?gdprCompliant=true&gdprCompliant=false", status: 400 },
  { name: "DELETE collection", method: "DELETE", path: "/api/users", status: 405, code: "method_not_allowed", check: allow("GET, HEAD, POST") },
  { name: "PUT collection", method: "PUT", path: "/api/users", body: j(valid()), status: 405, check: allow("GET, HEAD, POST") },
  { name: "PATCH collection", method: "PATCH", path: "/api/users", body: j(valid()), status: 405, check: allow("GET, HEAD, POST") },
  { name: "POST to a record", method: "POST", path: "/api/users/{id}", body: j(valid()), status: 405, check: allow("GET, HEAD, PUT, PATCH, DELETE") },
  { name: "GET by id with a query parameter", method: "GET", path: "/api/users/{id}?fields=all", status: 400, code: "validation_failed", check: issue("fields") },
  { name: "5 000 unknown keys: a short answer", method: "POST", path: "/api/users", body: j(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 1]))), status: 400, check: (e) => expect((e.issues as unknown[]).length).toBe(21) },
  { name: "unknown path", method: "GET", path: "/nope", status: 404, code: "not_found" },
  { name: "unknown model", method: "GET", path: "/api/patients", status: 404, code: "not_found" },
  { name: "path below a record", method: "GET", path: "/api/users/{id}/extra", status: 404, code: "not_found" },
  { name: "POST /reset without allowReset", method: "POST", path: "/reset", status: 404, code: "not_found" },
);

describe("bad input: 4xx in the one shape, nothing changes", () => {
  const t = makeApp();
  apps.push(t);
  let seed: Rec;
  let before: Rec;
  beforeAll(async () => {
    const res = await t.req("POST", "/api/users", userBody());
    expect(res.status).toBe(201);
    seed = (await res.json()) as Rec;
    await t.req("DELETE", `/api/users/${((await (await t.req("POST", "/api/users", userBody())).json()) as Rec).id}?gdprCompliant=true`);
    before = await snapshot(t);
    expect(before.database).toMatchObject({ identity: 1, clinical: 2, deidentified: 1 });
  });

  for (const c of cases) {
    test(c.name, async () => {
      const res = await send(t, c, seed.id);
      const err = expectErrorShape(await res.text(), res, c.status);
      if (c.code) expect(err.code).toBe(c.code);
      c.check?.(err, res);
      expect(await snapshot(t)).toEqual(before);
    });
  }

  test("every case was a 4xx and the seeded record still reads back unchanged", async () => {
    expect(cases.length).toBeGreaterThan(150);
    for (const c of cases) expect(c.status >= 400 && c.status < 500).toBe(true);
    const res = await t.req("GET", `/api/users/${seed.id}`);
    expect(await res.json()).toEqual(seed);
  });
});

describe("JSON media types", () => {
  const t = makeApp();
  apps.push(t);

  // requireJson (src/middleware.ts) admits any "+json" suffix, e.g. application/a+b+json, but
  // Hono's validator only parses bodies whose type matches ^application/([\w.-]+\+)?json$;
  // for any other type it validates {} instead of the body the client sent.
  for (const type of ["application/json; charset=utf-8", "application/merge-patch+json", "application/a+b+json"]) {
    test(`${type}: the body is either parsed or refused with 415, never ignored`, async () => {
      const body = userBody();
      const res = await t.req("POST", "/api/users", body, { "content-type": type });
      if (res.status !== 201) {
        expectErrorShape(await res.text(), res, 415);
        return;
      }
      const rec = (await res.json()) as Rec;
      expect(rec).toMatchObject(body);
      const upd = await t.req("PUT", `/api/users/${rec.id}`, { lastName: "Renamed" }, { "content-type": type });
      expect(upd.status).toBe(200);
      expect(((await upd.json()) as Rec).lastName).toBe("Renamed");
    });
  }
});

describe("configured body cap", () => {
  const t = makeApp({ bodyLimit: 2048 });
  apps.push(t);

  test("a body over 2048 bytes is 413; one under it is accepted", async () => {
    const big = userBody({ diagnosis: x(200), medications: Array.from({ length: 30 }, () => x(90)) });
    const res = await t.req("POST", "/api/users", big);
    expectErrorShape(await res.text(), res, 413);
    for (const m of ["PUT", "PATCH"]) {
      const r = await t.req(m, `/api/users/${MISSING}`, big);
      expectErrorShape(await r.text(), r, 413);
    }
    expect(((await (await t.req("GET", "/stats")).json()) as Rec).database).toMatchObject({ identity: 0, clinical: 0 });
    const ok = await t.req("POST", "/api/users", userBody());
    expect(ok.status).toBe(201);
  });
});
