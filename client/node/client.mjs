// Drives the client in Node against a forge app (client/node_client_test.go
// starts it): node node/client.mjs ws://127.0.0.1:PORT/ws/node
// Prints one JSON line of what happened; exits 1 on a failure.
import { WebSocket as WS } from "ws";
import { connect } from "../dist/forge.js";

const url = process.argv[2];
const WebSocket = globalThis.WebSocket ?? WS;
const c = connect({ url, WebSocket, reconnect: { min: 10, max: 50 }, events: ["tick"] });
const ticks = [];
c.on("tick", (t) => ticks.push(t.n));
const seen = new Set();
c.onAny((event) => seen.add(event));
c.handle("double", (p) => ({ n: p.n * 2 }));
const opened = new Promise((resolve) => c.listen("open", resolve));
const timeout = setTimeout(() => { console.error("gave up"); process.exit(1); }, 20000);
await opened;
const out = {};
out.echo = await c.request("echo", { text: "from node" });
out.error = await c.request("echo", { text: "" }).then(() => "resolved", (e) => e.code);
out.doubled = await c.request("ask", { n: 21 });
await c.request("ticks", { n: 3 });
while (ticks.length < 3) await new Promise((r) => setTimeout(r, 5));
out.ticks = ticks;
out.seen = [...seen];
c.close();
clearTimeout(timeout);
console.log(JSON.stringify(out));
