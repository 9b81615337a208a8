import { test } from "node:test";
import assert from "node:assert/strict";
import { OfflineQueue, utf8Length } from "../dist/forge.js";

const item = (event, data) => ({ event, data, bytes: utf8Length(data) });

test("holds messages in order up to its capacity", () => {
  const q = new OfflineQueue(10);
  assert.ok(q.push(item("a", "1234")));
  assert.ok(q.push(item("b", "12345")));
  assert.equal(q.bytes, 9);
  assert.equal(q.push(item("c", "12")), false, "the newest is refused when it does not fit");
  assert.ok(q.push(item("d", "1")), "a smaller one still fits");
  assert.equal(q.bytes, 10);
  assert.deepEqual(q.drain().map((x) => x.event), ["a", "b", "d"]);
  assert.equal(q.bytes, 0);
  assert.equal(q.length, 0);
});

test("a message larger than the capacity never fits", () => {
  const q = new OfflineQueue(4);
  assert.equal(q.push(item("big", "12345")), false);
  assert.equal(q.length, 0);
});

test("capacity 0 queues nothing", () => {
  const q = new OfflineQueue(0);
  assert.equal(q.push(item("a", "x")), false);
});

test("bytes are UTF-8 bytes", () => {
  const q = new OfflineQueue(4);
  assert.equal(q.push(item("a", "😀")), true); // 4 bytes, 2 UTF-16 units
  assert.equal(q.push(item("b", "x")), false);
});

test("remove frees the room of a message", () => {
  const q = new OfflineQueue(6);
  const a = item("a", "123"), b = item("b", "456");
  q.push(a);
  q.push(b);
  assert.ok(q.remove(a));
  assert.equal(q.remove(a), false);
  assert.equal(q.bytes, 3);
  assert.ok(q.push(item("c", "789")));
  assert.deepEqual(q.drain().map((x) => x.event), ["b", "c"]);
});
