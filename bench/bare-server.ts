// The limit: the cheapest possible Bun HTTP server on this machine. The bench measures it with
// the same oha settings as Privata's maxima; every throughput is reported as a fraction of it.
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.argv[2] ?? 0),
  development: false, // as the server runs (src/server.ts)
  fetch() {
    return new Response("ok");
  },
});
console.error(`bare: listening on http://127.0.0.1:${server.port}`);
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    server.stop(true);
    process.exit(0);
  });
}
