import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay } from "../dist/forge.js";

// seeded is a small deterministic generator (mulberry32), so that the
// expected delays below are computed, not copied.
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("the ceiling doubles from min and stops at max", () => {
  const top = () => 1 - Number.EPSILON; // the largest random value
  const got = [];
  for (let n = 0; n < 8; n++) got.push(backoffDelay(n, 100, 5000, top));
  assert.deepEqual(got, [99, 199, 399, 799, 1599, 3199, 4999, 4999]);
});

test("full jitter: the delay is random times the ceiling, rounded down", () => {
  const draws = seeded(42);
  const again = seeded(42);
  for (let n = 0; n < 20; n++) {
    const ceiling = Math.min(30000, 500 * 2 ** n);
    const want = Math.floor(again() * ceiling);
    assert.equal(backoffDelay(n, 500, 30000, draws), want, `attempt ${n}`);
  }
});

test("delays are spread over the whole range", () => {
  const r = seeded(7);
  let low = 0, high = 0;
  for (let i = 0; i < 2000; i++) {
    const d = backoffDelay(3, 1000, 60000, r); // ceiling 8000
    assert.ok(d >= 0 && d < 8000, `delay ${d}`);
    if (d < 4000) low++;
    else high++;
  }
  assert.ok(low > 800 && high > 800, `low ${low} high ${high}`);
});

test("out-of-range random values are clamped", () => {
  assert.equal(backoffDelay(0, 1000, 1000, () => -3), 0);
  assert.equal(backoffDelay(0, 1000, 1000, () => NaN), 0);
  assert.equal(backoffDelay(0, 1000, 1000, () => 7), 999);
});

test("huge attempt numbers stay finite", () => {
  assert.equal(backoffDelay(5000, 500, 30000, () => 0.5), 15000);
});
