// A scripted stand-in for the wardstream API (node:http), for retry and batching tests.
// Steps: "503" / "429" / "500" / "422" answer that status (429 and 503 with
// Retry-After: 0), "drop" destroys the socket without an answer, "ok" (also what
// an exhausted script gives) answers like the API. Every request is recorded.
import { createServer } from "node:http";

export async function standIn(script = []) {
  const steps = [...script];
  const seen = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const path = req.url.split("?")[0];
      seen.push({ method: req.method, path, url: req.url, headers: req.headers, body: raw ? JSON.parse(raw) : null });
      const step = steps.length ? steps.shift() : "ok";
      if (step === "drop") {
        req.socket.destroy();
        return;
      }
      let status;
      let body;
      const headers = { "content-type": "application/json" };
      if (step === "ok") {
        status = req.method === "POST" ? 202 : 200;
        if (path === "/v1/events") {
          const items = Array.isArray(seen.at(-1).body) ? seen.at(-1).body : [seen.at(-1).body];
          body = { accepted: items.map((e) => e.event_id), count: items.length };
        } else if (path === "/v1/decisions") {
          body = { event_id: "decision-x", queue_item_closed: true };
        } else {
          body = { items: [], next_after: null };
        }
      } else {
        status = Number(step);
        body = { error: "scripted", message: `scripted ${status}`, ...(status === 422 ? { field: "event_id" } : {}) };
        if (status === 429 || status === 503) headers["retry-after"] = "0";
      }
      res.writeHead(status, headers);
      res.end(JSON.stringify(body));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    postedIds: () =>
      seen.filter((s) => s.path === "/v1/events").map((s) => (Array.isArray(s.body) ? s.body : [s.body]).map((e) => e.event_id)),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
