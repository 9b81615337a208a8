import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, ForgeError } from "../dist/forge.js";

// These run the client without a server: what it does before it connects
// and after it stops.

test("messages wait in the queue before connect, up to its cap", async () => {
  const c = new Client({ url: "ws://127.0.0.1:1/x", queueBytes: 120 });
  const drops = [];
  c.listen("drop", (d) => drops.push(d));
  assert.equal(c.state, "idle");
  assert.equal(c.emit("a", { text: "x".repeat(10) }), true);
  const big = c.request("b", { text: "x".repeat(120) });
  await assert.rejects(big, (e) => e instanceof ForgeError && e.code === "dropped");
  assert.equal(c.emit("c", 1), true, "a smaller message still fits");
  const s = c.stats();
  assert.equal(s.queued, 2);
  assert.equal(s.dropped, 1);
  assert.equal(drops.length, 1);
  assert.equal(drops[0].event, "b");
  assert.equal(drops[0].reason, "full");
  assert.equal(drops[0].bytes, s.droppedBytes);

  const pending = c.request("d", {});
  const stops = [];
  c.listen("stop", (x) => stops.push(x));
  c.close();
  await assert.rejects(pending, (e) => e.code === "closed");
  assert.deepEqual(drops.slice(1).map((d) => [d.event, d.reason]), [["a", "closed"], ["c", "closed"], ["d", "closed"]]);
  assert.deepEqual(stops, [{ code: 1000, reason: "" }]);
  assert.equal(c.emit("e", 1), false, "nothing is sent after close");
  await assert.rejects(c.request("f", 1), (e) => e.code === "closed");
});

test("a request times out while it waits in the queue, and leaves it", async () => {
  const c = new Client({ url: "ws://127.0.0.1:1/x" });
  await assert.rejects(c.request("slow", {}, { timeout: 5 }), (e) => e.code === "timeout");
  assert.equal(c.stats().queued, 0);
  c.close();
});

test("without a WebSocket, connect stops and says why", async () => {
  const c = new Client({ url: "ws://127.0.0.1:1/x", WebSocket: undefined });
  if (globalThis.WebSocket) return; // this Node has one
  const errors = [], stops = [];
  c.listen("error", (e) => errors.push(e.code));
  c.listen("stop", (s) => stops.push(s.reason));
  c.connect();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(errors, ["connect"]);
  assert.deepEqual(stops, ["cannot connect"]);
  assert.equal(c.state, "closed");
});
