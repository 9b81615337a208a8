// @ts-check
// The chat page: forge's client (served at /forge.js, mapped to "forge"
// by the page's import map) with the types forge-client-gen wrote from
// the chat's AsyncAPI document (chat-api.d.ts), which tsc checks this
// file against.
import { Client } from "forge";

/** @typedef {import("./chat-api").WsChatRoomAPI} ChatAPI */
/** @typedef {import("./chat-api").ChatMessage} ChatMessage */

/** @param {string} id */
const $ = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));

/** @type {Client<ChatAPI> | undefined} */
let client;
let me = "";
/** Messages shown, by room, user, time and text: a replay after a reconnection repeats the own ones. */
const shown = new Set();
/** @type {Map<string, ReturnType<typeof setTimeout>>} */
const typing = new Map();

/**
 * @param {string} user
 * @param {string} text
 * @param {string} cls
 */
function line(user, text, cls) {
  const li = document.createElement("li");
  li.className = cls;
  if (user) {
    const u = document.createElement("span");
    u.className = "user";
    u.textContent = user;
    li.append(u);
  }
  const t = document.createElement("span");
  t.className = "text";
  t.textContent = text;
  li.append(t);
  const list = $("messages");
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

/** @param {string} text */
const notice = (text) => line("", text, "notice");

/** @param {ChatMessage} m */
function message(m) {
  const key = [m.room, m.user, m.time, m.text].join("\u0000");
  if (shown.has(key)) return;
  shown.add(key);
  line(m.user ?? "", m.text ?? "", m.user === me ? "message mine" : "message");
}

function showTyping() {
  const names = [...typing.keys()];
  $("typing").textContent = names.length === 0 ? "" : names.join(", ") + (names.length === 1 ? " is typing…" : " are typing…");
}

/** @param {string} state */
function status(state) {
  const s = $("status");
  s.dataset.state = state;
  s.textContent = { idle: "not connected", connecting: "connecting…", open: "connected", waiting: "reconnecting…", closed: "disconnected" }[state] ?? state;
  $("text").disabled = $("say").disabled = state === "closed" || state === "idle";
}

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  me = $("name").value.trim() || "anonymous";
  const room = $("room").value;
  client?.close();
  $("messages").replaceChildren();
  shown.clear();
  /** @type {Client<ChatAPI>} */
  const c = new Client({ url: `/ws/chat/${encodeURIComponent(room)}?user=${encodeURIComponent(me)}` });
  client = c;
  c.listen("open", (o) => { status("open"); if (o.reconnect) notice("reconnected"); });
  c.listen("close", (x) => { status(x.willRetry ? "waiting" : "closed"); if (!x.willRetry) notice(`disconnected (${x.code} ${x.reason})`.trim()); });
  c.listen("reconnect", () => status("waiting"));
  c.listen("recovery", (r) => {
    if (!r.recovered) notice("some messages may be missing: the room's history did not reach back far enough");
  });
  c.on("message", message);
  c.on("presence", (p) => {
    const who = p.meta?.user ?? "someone";
    if (who !== me) notice(p.action === "join" ? `${who} joined` : `${who} left`);
  });
  c.on("typing", (t) => {
    const who = t.user ?? "someone";
    clearTimeout(typing.get(who));
    typing.delete(who);
    if (t.typing) typing.set(who, setTimeout(() => { typing.delete(who); showTyping(); }, 5000));
    showTyping();
  });
  c.on("error", (err) => notice(`error: ${err.message}`));
  status("connecting");
  c.connect();
  $("text").focus();
});

let typingSent = false;
$("text").addEventListener("input", () => {
  const now = $("text").value !== "";
  if (client && now !== typingSent) {
    typingSent = now;
    client.emit("typing", { typing: now });
  }
});

$("send").addEventListener("submit", (e) => {
  e.preventDefault();
  const c = client;
  const text = $("text").value.trim();
  if (!c || !text) return;
  $("text").value = "";
  typingSent = false;
  c.emit("typing", { typing: false });
  c.request("message", { text }).then(
    (sent) => message({ room: sent.room, user: me, time: sent.time, text }),
    (err) => notice(`not sent (${err.code}): ${text}`),
  );
});
