import { test } from "node:test";
import assert from "node:assert/strict";
import { buildURL, decodeMessage, encodeMessage, utf8Length } from "../dist/forge.js";

test("events envelope", () => {
  assert.equal(encodeMessage("event", "message", { text: "hi" }, "c1"), '{"event":"message","id":"c1","payload":{"text":"hi"}}');
  assert.equal(encodeMessage("event", "leave", undefined), '{"event":"leave"}');
  const m = decodeMessage("event", '{"event":"message","payload":{"text":"hi"},"position":{"room":"lobby","epoch":"e1","offset":7}}');
  assert.deepEqual(m, { event: "message", payload: { text: "hi" }, position: { room: "lobby", epoch: "e1", offset: 7 } });
  assert.deepEqual(decodeMessage("event", '{"event":"join.ack","id":"c2","payload":null}'), { event: "join.ack", id: "c2", payload: null });
});

test("command envelope", () => {
  assert.equal(encodeMessage("command", "chat", { text: "hi" }, undefined, "lobby"), '{"channel":"lobby","cmd":"chat","param":{"text":"hi"}}');
  assert.equal(encodeMessage("command", "ping", undefined, "c3"), '{"channel":"","cmd":"ping","id":"c3"}');
  assert.deepEqual(decodeMessage("command", '{"channel":"lobby","cmd":"chat","param":{"user":"ann"}}'), { event: "chat", channel: "lobby", payload: { user: "ann" } });
});

test("round trip", () => {
  for (const mode of ["event", "command"]) {
    for (const payload of [{ a: [1, "é", null] }, "text \u2028", 0, false]) {
      const m = decodeMessage(mode, encodeMessage(mode, "ev", payload, "9", mode === "command" ? "ch" : undefined));
      assert.equal(m.event, "ev");
      assert.equal(m.id, "9");
      assert.deepEqual(m.payload, payload);
    }
  }
});

test("what is not a message", () => {
  const cases = {
    "not JSON": "{",
    "array": "[1]",
    "string": '"event"',
    "null": "null",
    "no event": '{"payload":1}',
    "empty event": '{"event":""}',
    "event not a string": '{"event":5}',
  };
  for (const [name, text] of Object.entries(cases)) {
    assert.ok(decodeMessage("event", text) instanceof Error, name);
  }
  assert.ok(decodeMessage("command", '{"event":"x"}') instanceof Error, "event envelope in command mode");
});

test("a malformed position is ignored, the message kept", () => {
  const m = decodeMessage("event", '{"event":"x","position":{"room":"r","epoch":"e","offset":"7"}}');
  assert.equal(m.position, undefined);
  assert.equal(m.event, "x");
});

test("utf8Length matches TextEncoder", () => {
  const enc = new TextEncoder();
  for (const s of ["", "abc", "é", "€", "😀", "a😀b", "\ud800", "\udc00x", "日本語"]) {
    assert.equal(utf8Length(s), enc.encode(s).length, JSON.stringify(s));
  }
});

test("URLs: scheme, query, events and recover", () => {
  const u = buildURL(new URL("http://h:1/ws/chat/lobby?user=ann"), { v: "2" }, ["message", "typing"],
    [{ room: "lobby", epoch: "e1", offset: 4 }, { room: "a:b", epoch: "e2", offset: 9 }]);
  const p = new URL(u);
  assert.equal(p.protocol, "ws:");
  assert.equal(p.searchParams.get("user"), "ann");
  assert.equal(p.searchParams.get("v"), "2");
  assert.equal(p.searchParams.get("events"), "message,typing");
  assert.deepEqual(p.searchParams.getAll("recover"), ["lobby:e1:4", "a:b:e2:9"]);
  assert.equal(new URL(buildURL(new URL("https://h/x?recover=old:1:1"), undefined, undefined, [])).href, "wss://h/x");
});
