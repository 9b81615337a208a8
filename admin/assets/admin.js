// The forge inspector's page: it refreshes the tables from the JSON API,
// runs the actions, and streams a tap. No dependency, no network but the
// inspector's own endpoints.
"use strict";
(function () {
  const base = document.body.dataset.base;
  const $ = (id) => document.getElementById(id);
  const errorBox = $("error");

  function fail(err) { errorBox.textContent = String(err); }

  async function call(path, body) {
    const init = { credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(base + path, init);
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error((data && (data.detail || data.title)) || res.status);
    return { data, total: Number(res.headers.get("X-Total-Count")) };
  }

  async function api(path, body) {
    return (await call(path, body)).data;
  }

  const pageLimit = 500; // as the server renders it (admin.PageLimit)

  // list fetches the first pageLimit items of a listing and shows how
  // many there are in all.
  async function list(path, countId) {
    const { data, total } = await call(path + "?limit=" + pageLimit);
    $(countId).textContent = data.length < total ? "(first " + data.length + " of " + total + ")" : "(" + total + ")";
    return data;
  }

  function cell(tr, text) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    tr.appendChild(td);
    return td;
  }

  function button(td, label, fn) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", () => fn().then(refresh).catch(fail));
    td.appendChild(b);
  }

  function age(s) {
    if (s < 60) return Math.round(s) + "s";
    if (s < 3600) return Math.round(s / 60) + "m";
    return (s / 3600).toFixed(1) + "h";
  }

  function fill(table, rows, empty, render) {
    const body = $(table).tBodies[0];
    body.replaceChildren();
    if (rows.length === 0) {
      const tr = body.insertRow();
      tr.className = "empty";
      const td = cell(tr, empty);
      td.colSpan = $(table).tHead.rows[0].cells.length;
      return;
    }
    for (const r of rows) render(body.insertRow(), r);
  }

  function renderConnections(conns) {
    fill("connections", conns, "no connection", (tr, c) => {
      tr.dataset.id = c.id;
      cell(tr, c.id).className = "id";
      cell(tr, c.route);
      cell(tr, c.remote_addr);
      cell(tr, c.principal);
      cell(tr, c.rooms.join(", "));
      cell(tr, c.queue_bytes);
      cell(tr, c.messages_in);
      cell(tr, c.messages_out);
      cell(tr, age(c.age_seconds));
      const td = cell(tr, "");
      button(td, "tap", async () => startTap("conn", c.id));
      button(td, "send", async () => {
        const event = prompt("Event name to send (empty: raw text)", "");
        if (event === null) return;
        if (event === "") {
          const data = prompt("Text to send", "");
          if (data !== null) await api("/api/connections/" + encodeURIComponent(c.id) + "/send", { data });
          return;
        }
        const payload = prompt("Payload (JSON)", "{}");
        if (payload !== null) await api("/api/connections/" + encodeURIComponent(c.id) + "/send", { event, payload: JSON.parse(payload) });
      });
      button(td, "close", async () => {
        const code = prompt("Close code (1000, 1001, 1008, 1011, 1013 or 3000-4999)", "1000");
        if (code === null) return;
        const reason = prompt("Reason", "closed by an operator") || "";
        await api("/api/connections/" + encodeURIComponent(c.id) + "/close", { code: Number(code), reason });
      });
    });
  }

  function renderRooms(rooms) {
    fill("rooms", rooms, "no room", (tr, r) => {
      tr.dataset.room = r.name;
      cell(tr, r.hub);
      cell(tr, r.name);
      const members = cell(tr, "");
      for (const m of r.members) {
        const span = document.createElement("span");
        span.className = "member";
        span.textContent = m.id + (m.meta && m.meta.user ? " (" + m.meta.user + ")" : "") + " ";
        members.appendChild(span);
        button(members, "evict", async () => api("/api/rooms/evict", { hub: r.hub, room: r.name, id: m.id }));
      }
      cell(tr, r.presence.map((p) => (p.meta && p.meta.user) || p.id).join(", "));
      button(cell(tr, ""), "tap", async () => startTap("room", r.name));
    });
  }

  function renderStatus(st) {
    const c = st.connections;
    $("stat-open").textContent = c.Open;
    $("stat-accepted").textContent = c.Accepted;
    $("stat-refused").textContent = c.Refused;
    $("stat-slow").textContent = c.SlowConsumers;
    $("stat-dropped").textContent = c.Dropped;
    $("stat-discarded").textContent = c.Discarded;
    $("stat-ratelimited").textContent = c.RateLimited;
    fill("routes", st.routes || [], "no WebSocket route", (tr, r) => {
      for (const v of [r.route, r.open, r.opened, r.refused, r.messages_in, r.messages_out, r.dropped, r.discarded, r.slow_consumers, r.rate_limited]) cell(tr, v);
      cell(tr, Object.entries(r.close_codes || {}).map(([k, v]) => k + "×" + v).join(" "));
    });
  }

  async function refresh() {
    try {
      const [conns, rooms, st] = await Promise.all([list("/api/connections", "conn-count"), list("/api/rooms", "room-count"), api("/api/status")]);
      renderConnections(conns);
      renderRooms(rooms);
      renderStatus(st);
      errorBox.textContent = "";
    } catch (err) {
      fail(err);
    }
  }

  // The tap: one streaming request, read line by line, ended by stop.
  let tapAbort = null;
  const frames = $("tap-frames");

  function showFrame(f) {
    const li = document.createElement("li");
    li.className = f.dir;
    const t = new Date(f.time).toLocaleTimeString();
    let text = t + " " + f.dir;
    if (f.event) text += " [" + f.event + "]";
    if (f.dir === "close") text += " " + f.code + " " + (f.reason || "");
    else if (f.dir === "skipped") text += " " + f.skipped + " frames (the page fell behind)";
    else if (f.binary) text += " binary, " + f.size + " bytes";
    else if (f.dir !== "start") text += " " + f.data + (f.truncated ? " … (" + f.size + " bytes)" : "");
    li.textContent = text;
    frames.appendChild(li);
    while (frames.childElementCount > 500) frames.firstElementChild.remove();
    frames.scrollTop = frames.scrollHeight;
  }

  async function startTap(kind, target) {
    stopTap();
    $("tap-kind").value = kind;
    $("tap-target").value = target;
    frames.replaceChildren();
    const ctl = new AbortController();
    tapAbort = ctl;
    $("tap-stop").disabled = false;
    const res = await fetch(base + "/api/tap?" + kind + "=" + encodeURIComponent(target), { credentials: "same-origin", signal: ctl.signal });
    if (!res.ok) {
      stopTap();
      throw new Error("tap: " + res.status);
    }
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let nl;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line) showFrame(JSON.parse(line));
          }
        }
      } catch (err) {
        if (err.name !== "AbortError") fail(err);
      } finally {
        if (tapAbort === ctl) stopTap();
      }
    })();
  }

  function stopTap() {
    if (tapAbort) tapAbort.abort();
    tapAbort = null;
    $("tap-stop").disabled = true;
  }

  $("tap-form").addEventListener("submit", (e) => {
    e.preventDefault();
    startTap($("tap-kind").value, $("tap-target").value).catch(fail);
  });
  $("tap-stop").addEventListener("click", stopTap);

  refresh();
  setInterval(refresh, 2000);
})();
