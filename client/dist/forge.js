/**
 * forge's client for browsers and Node: one dependency-free ES module that
 * speaks forge's events envelope, {"event", "id", "payload"}, or the
 * command envelope, {"channel", "cmd", "param"}, over one WebSocket that it
 * keeps open.
 *
 * - `emit` sends an event; `request` sends one with an id and returns a
 *   Promise of the reply (the "<event>.ack" message), rejected with a
 *   {@link ForgeError} by the error event, a timeout or a lost connection.
 * - `on` listens to server events; `handle` answers the server's requests
 *   with the handler's return value.
 * - It reconnects with exponential backoff and full jitter, re-joins the
 *   rooms joined with `join`, re-sends the token as the "bearer.<token>"
 *   subprotocol entry (asking a token function for a fresh one first), and
 *   stops, saying why, on the close codes that retrying cannot fix (4401,
 *   1008, 1003).
 * - While disconnected, messages wait in a queue bounded in bytes; see
 *   {@link ClientOptions.queueBytes} for what is dropped and how it shows.
 * - A heartbeat probes a silent link and replaces a dead one.
 * - In rooms with history, it remembers the position of the last message
 *   of each room and reconnects with ?recover=room:epoch:offset, so that
 *   the server replays what was missed; the server's "recovery" event says
 *   whether that worked.
 *
 * @module
 */
/**
 * ForgeError rejects a request. Its code is the error event's (such as
 * "invalid_payload" or "forbidden"), or one of the client's own:
 * "timeout" (no reply in time), "disconnected" (the connection was lost
 * after the request was sent, so whether the server handled it is not
 * known), "dropped" (the offline queue had no room for it) and "closed"
 * (the client was closed).
 */
export class ForgeError extends Error {
    code;
    constructor(code, message) {
        super(message);
        this.name = "ForgeError";
        this.code = code;
    }
}
// ---- pure building blocks (exported for the tests) ----
/**
 * backoffDelay is the wait before reconnection attempt n (0 for the
 * first): random × min(max, min × 2^n), rounded down.
 * @internal
 */
export function backoffDelay(attempt, min, max, random) {
    const ceiling = Math.min(max, min * Math.pow(2, Math.min(attempt, 52)));
    let r = random();
    if (!(r >= 0))
        r = 0; // NaN too
    if (r >= 1)
        r = 1 - Number.EPSILON;
    return Math.floor(r * ceiling);
}
const fields = {
    event: { event: "event", payload: "payload" },
    command: { event: "cmd", payload: "param" },
};
/**
 * encodeMessage encodes one message in the envelope of mode; an undefined
 * payload is left out.
 * @internal
 */
export function encodeMessage(mode, event, payload, id, channel) {
    const f = fields[mode];
    const m = {};
    if (mode === "command")
        m.channel = channel ?? "";
    m[f.event] = event;
    if (id !== undefined)
        m.id = id;
    if (payload !== undefined)
        m[f.payload] = payload;
    return JSON.stringify(m);
}
/**
 * decodeMessage decodes one text message, or returns an error saying why
 * it is not a message of mode.
 * @internal
 */
export function decodeMessage(mode, text) {
    let v;
    try {
        v = JSON.parse(text);
    }
    catch {
        return new Error("not JSON");
    }
    if (typeof v !== "object" || v === null || Array.isArray(v))
        return new Error("not a JSON object");
    const o = v;
    const f = fields[mode];
    const event = o[f.event];
    if (typeof event !== "string" || event === "")
        return new Error(`no "${f.event}"`);
    const out = { event, payload: o[f.payload] };
    if (typeof o.id === "string")
        out.id = o.id;
    if (typeof o.channel === "string")
        out.channel = o.channel;
    const p = o.position;
    if (p && typeof p === "object" && typeof p.room === "string" && typeof p.epoch === "string" && typeof p.offset === "number") {
        out.position = { room: p.room, epoch: p.epoch, offset: p.offset };
    }
    return out;
}
/** utf8Length counts the UTF-8 bytes of s without encoding it. @internal */
export function utf8Length(s) {
    let n = 0;
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x80)
            n += 1;
        else if (c < 0x800)
            n += 2;
        else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
            n += 4;
            i++;
        }
        else
            n += 3;
    }
    return n;
}
/**
 * OfflineQueue holds encoded messages in order up to a byte capacity. A
 * message that does not fit is refused (the newest is dropped, never one
 * already waiting), so that what is eventually sent keeps its order.
 * @internal
 */
export class OfflineQueue {
    capacity;
    items = [];
    size = 0;
    constructor(capacity) {
        this.capacity = capacity;
    }
    /** push adds a message and reports whether it fit. */
    push(q) {
        if (this.size + q.bytes > this.capacity)
            return false;
        this.items.push(q);
        this.size += q.bytes;
        return true;
    }
    /** remove takes a message out, reporting whether it was there. */
    remove(q) {
        const i = this.items.indexOf(q);
        if (i < 0)
            return false;
        this.items.splice(i, 1);
        this.size -= q.bytes;
        return true;
    }
    /** drain empties the queue and returns what it held, oldest first. */
    drain() {
        const out = this.items;
        this.items = [];
        this.size = 0;
        return out;
    }
    get length() {
        return this.items.length;
    }
    get bytes() {
        return this.size;
    }
}
/**
 * buildURL adds the query, the subscriptions and the recovery positions
 * to base: ?events=a,b and one recover=room:epoch:offset per room.
 * @internal
 */
export function buildURL(base, query, events, positions) {
    const u = new URL(base.href);
    if (u.protocol === "http:")
        u.protocol = "ws:";
    else if (u.protocol === "https:")
        u.protocol = "wss:";
    for (const [k, v] of Object.entries(query ?? {}))
        u.searchParams.set(k, v);
    if (events !== undefined)
        u.searchParams.set("events", events.join(","));
    u.searchParams.delete("recover");
    for (const p of positions)
        u.searchParams.append("recover", `${p.room}:${p.epoch}:${p.offset}`);
    return u.href;
}
// ---- the client ----
const policyCodes = new Set([4401, 1008, 1003]);
const heartbeatEvent = "forge.heartbeat";
/**
 * Client is one logical connection to a forge WebSocket route, which it
 * reopens when it is lost. A is the route's API, as generated by
 * forge-client-gen; without it, every event name and payload is allowed.
 *
 * It is safe to call from any code of a single JavaScript thread; calls
 * made while the connection is down are queued (see queueBytes).
 */
export class Client {
    opts;
    mode;
    base;
    random;
    queue;
    ws;
    st = "idle";
    nextID = 1;
    pending = new Map();
    listeners = new Map();
    anyListeners = new Set();
    handlers = new Map();
    reports = new Map();
    joined = new Set();
    subs; // undefined: all events
    unsubs = new Set(); // unsubscribed while subscribed to all
    positions = new Map();
    recovering = new Map();
    attempt = 0; // reconnection attempts since the last open
    retryTimer;
    lastClose;
    openedSinceClose = false;
    hb = { lastRx: 0, probing: false };
    counters = {
        attempts: 0, opens: 0, sent: 0, received: 0, dropped: 0, droppedBytes: 0,
        queued: 0, queuedBytes: 0, duplicates: 0, heartbeatTimeouts: 0,
    };
    constructor(opts) {
        this.opts = opts;
        this.mode = opts.envelope ?? "event";
        const loc = globalThis.location?.href;
        this.base = new URL(String(opts.url), loc);
        this.random = opts.random ?? Math.random;
        this.queue = new OfflineQueue(opts.queueBytes ?? 262144);
        if (opts.events !== undefined)
            this.subs = new Set(opts.events);
    }
    /** The client's state: idle before connect, then connecting, open, waiting (to reconnect) or closed. */
    get state() {
        return this.st;
    }
    /** stats returns the client's counters. */
    stats() {
        return { ...this.counters, queued: this.queue.length, queuedBytes: this.queue.bytes };
    }
    /** positions returns the last position seen in each room with history. */
    roomPositions() {
        return [...this.positions.values()];
    }
    /** connect opens the connection; the client then keeps it open until close. */
    connect() {
        if (this.st === "idle")
            void this.open();
        return this;
    }
    /**
     * close ends the connection for good (code 1000): pending requests
     * reject with "closed", queued messages are dropped and reported.
     */
    close(code = 1000, reason = "") {
        if (this.st === "closed")
            return;
        this.st = "closed";
        clearTimeout(this.retryTimer);
        this.stopHeartbeat();
        const ws = this.ws;
        this.ws = undefined;
        if (ws) {
            detach(ws);
            ws.close(code, reason);
        }
        this.failPending("closed", "the client was closed");
        for (const q of this.queue.drain())
            this.dropped(q, "closed");
        this.report("stop", { code, reason });
    }
    /**
     * emit sends an event without asking for a reply. It returns false when
     * the message was dropped: the client is closed, or the connection is
     * down and the offline queue is full.
     */
    emit(event, payload, opts) {
        const data = encodeMessage(this.mode, event, payload, undefined, this.channelOf(opts));
        return this.sendOrQueue(event, data) !== undefined;
    }
    /**
     * request sends an event with an id and resolves with the payload of
     * its reply; it rejects with a {@link ForgeError}.
     */
    request(event, payload, opts) {
        return this.call(event, payload, opts);
    }
    call(event, payload, opts, probe = false, room) {
        const id = (probe ? "hb" : "c") + this.nextID++;
        const data = encodeMessage(this.mode, event, payload, id, this.channelOf(opts));
        return new Promise((resolve, reject) => {
            if (this.st === "closed") {
                reject(new ForgeError("closed", "the client is closed"));
                return;
            }
            const p = { event, resolve, reject, timer: undefined, probe, room };
            const timeout = opts?.timeout ?? this.opts.requestTimeout ?? 10000;
            p.timer = setTimeout(() => {
                this.pending.delete(id);
                if (p.queued)
                    this.queue.remove(p.queued);
                reject(new ForgeError("timeout", `no reply to ${event} within ${timeout} ms`));
            }, timeout);
            this.pending.set(id, p);
            if (probe) {
                this.sendNow(data);
                return;
            }
            const q = this.sendOrQueue(event, data);
            if (q === undefined) {
                clearTimeout(p.timer);
                this.pending.delete(id);
                reject(new ForgeError("dropped", `${event} was dropped: the offline queue is full`));
            }
            else if (q !== true) {
                p.queued = q;
            }
        });
    }
    /** on listens to a server event; it returns the function that stops listening. */
    on(event, fn) {
        let set = this.listeners.get(event);
        if (!set)
            this.listeners.set(event, (set = new Set()));
        set.add(fn);
        return () => set.delete(fn);
    }
    /** onAny listens to every server event that is not a reply. */
    onAny(fn) {
        this.anyListeners.add(fn);
        return () => this.anyListeners.delete(fn);
    }
    /**
     * handle answers the server's request event with fn's return value (or
     * the value of the Promise it returns); a thrown error is answered with
     * an error event, its code the error's code property or "internal".
     * A request without a handler is answered with "unknown_event".
     */
    handle(event, fn) {
        this.handlers.set(event, fn);
        return () => {
            if (this.handlers.get(event) === fn)
                this.handlers.delete(event);
        };
    }
    /** listen follows the client's lifecycle; it returns the function that stops listening. */
    listen(kind, fn) {
        let set = this.reports.get(kind);
        if (!set)
            this.reports.set(kind, (set = new Set()));
        set.add(fn);
        return () => set.delete(fn);
    }
    /**
     * join asks the server to put the connection in room (the rooms
     * option's join event) and remembers it, to join it again after a
     * reconnection.
     */
    join(room, opts) {
        this.joined.add(room);
        return this.call(this.opts.rooms?.join ?? "join", this.roomPayload(room), opts, false, room);
    }
    /** leave asks the server to take the connection out of room and forgets it. */
    leave(room, opts) {
        this.joined.delete(room);
        this.positions.delete(room);
        return this.call(this.opts.rooms?.leave ?? "leave", this.roomPayload(room), opts);
    }
    /**
     * position asks the server where room stands (the built-in "position"
     * request of rooms with history) and compares it with the last message
     * this client saw there: missed is how many messages it has not seen,
     * or undefined when the epochs differ (the history was lost) or it saw
     * none.
     */
    async position(room, opts) {
        const r = (await this.call("position", { room }, opts));
        const position = { room, epoch: String(r?.position?.epoch ?? ""), offset: Number(r?.position?.offset ?? 0) };
        const seen = this.positions.get(room);
        const out = { room, position };
        if (seen) {
            out.seen = seen;
            if (seen.epoch === position.epoch)
                out.missed = Math.max(0, position.offset - seen.offset);
        }
        return out;
    }
    /** subscribe adds server events to those received, now and after reconnections. */
    subscribe(events, opts) {
        this.changeSubs(true, events);
        return this.call("subscribe", { events }, opts);
    }
    /** unsubscribe removes server events from those received, now and after reconnections. */
    unsubscribe(events, opts) {
        this.changeSubs(false, events);
        return this.call("unsubscribe", { events }, opts);
    }
    changeSubs(add, events) {
        for (const e of events) {
            if (e === "*") {
                this.subs = add ? undefined : new Set();
                this.unsubs.clear();
            }
            else if (this.subs === undefined) {
                if (add)
                    this.unsubs.delete(e);
                else
                    this.unsubs.add(e);
            }
            else if (add)
                this.subs.add(e);
            else
                this.subs.delete(e);
        }
    }
    roomPayload(room) {
        const f = this.opts.rooms?.payload;
        return f ? f(room) : { room };
    }
    channelOf(opts) {
        return this.mode === "command" ? opts?.channel ?? this.opts.channel ?? "" : undefined;
    }
    // sendOrQueue sends data now (true), queues it (the queued entry), or
    // drops it (undefined).
    sendOrQueue(event, data) {
        if (this.st === "closed")
            return undefined;
        if (this.st === "open" && this.ws) {
            this.sendNow(data);
            return true;
        }
        const q = { event, data, bytes: utf8Length(data) };
        if (!this.queue.push(q)) {
            this.dropped(q, "full");
            return undefined;
        }
        return q;
    }
    sendNow(data) {
        try {
            this.ws?.send(data);
            this.counters.sent++;
        }
        catch {
            // The socket is closing; its close event follows.
        }
    }
    dropped(q, reason) {
        this.counters.dropped++;
        this.counters.droppedBytes += q.bytes;
        this.report("drop", { event: q.event, bytes: q.bytes, reason });
    }
    report(kind, r) {
        for (const fn of this.reports.get(kind) ?? []) {
            try {
                fn(r);
            }
            catch (err) {
                queueMicrotask(() => {
                    throw err;
                });
            }
        }
    }
    async open() {
        this.st = "connecting";
        this.counters.attempts++;
        let token;
        const t = this.opts.token;
        try {
            token = typeof t === "function" ? await t({ attempt: this.attempt, close: this.lastClose }) : t;
        }
        catch (err) {
            this.report("error", { code: "token", message: `the token function failed: ${String(err)}` });
            this.lost({ code: 1006, reason: "no token" });
            return;
        }
        if (this.st !== "connecting")
            return; // closed meanwhile
        const protocols = [...(this.opts.protocols ?? [])];
        if (token) {
            if (protocols.length === 0) {
                this.report("error", { code: "no_subprotocol", message: "a token needs a route subprotocol in protocols: the server never echoes the token's entry, and browsers fail a handshake that selects none" });
            }
            protocols.push((this.opts.tokenPrefix ?? "bearer.") + token);
        }
        const recover = this.opts.recover === false ? [] : [...this.positions.values()];
        const events = this.subs === undefined ? undefined : [...this.subs];
        const url = buildURL(this.base, this.opts.query, events, recover);
        const WS = this.opts.WebSocket ?? globalThis.WebSocket;
        let ws;
        try {
            if (!WS)
                throw new Error("no WebSocket here: pass options.WebSocket");
            ws = new WS(url, protocols);
        }
        catch (err) {
            // A URL or an environment that cannot work: retrying will not help.
            this.report("error", { code: "connect", message: String(err) });
            this.close(1000, "cannot connect");
            return;
        }
        this.ws = ws;
        this.recovering = new Map(recover.map((p) => [p.room, p]));
        ws.onopen = () => this.opened();
        ws.onmessage = (ev) => this.received(ev.data);
        ws.onclose = (ev) => {
            if (this.ws !== ws)
                return;
            this.ws = undefined;
            this.lost({ code: ev.code, reason: ev.reason });
        };
        ws.onerror = () => { }; // the close event follows with the code
    }
    opened() {
        const reconnect = this.counters.opens > 0;
        this.st = "open";
        this.counters.opens++;
        this.attempt = 0;
        this.openedSinceClose = true;
        this.startHeartbeat();
        // Restore the state of the last connection before anything queued,
        // since the server handles a connection's messages in order.
        if (this.subs === undefined && this.unsubs.size > 0) {
            this.call("unsubscribe", { events: [...this.unsubs] }).catch(() => { });
        }
        if (reconnect) {
            const queuedJoins = new Set([...this.pending.values()].filter((p) => p.queued && p.room).map((p) => p.room));
            for (const room of this.joined) {
                if (queuedJoins.has(room))
                    continue; // its own join is about to go
                this.call(this.opts.rooms?.join ?? "join", this.roomPayload(room)).catch((e) => this.report("error", { code: e.code, message: `join ${room} again: ${e.message}` }));
            }
        }
        for (const q of this.queue.drain()) {
            for (const p of this.pending.values())
                if (p.queued === q)
                    p.queued = undefined;
            this.sendNow(q.data);
        }
        this.report("open", { reconnect });
    }
    lost(c) {
        this.stopHeartbeat();
        if (this.st === "closed")
            return;
        // Requests sent on the lost connection may or may not have been
        // handled: reject them. Queued ones wait for the next connection.
        for (const [id, p] of this.pending) {
            if (p.queued)
                continue;
            clearTimeout(p.timer);
            this.pending.delete(id);
            if (!p.probe)
                p.reject(new ForgeError("disconnected", `the connection was lost before the reply to ${p.event}`));
        }
        let retry = this.opts.reconnect !== false;
        if (retry && policyCodes.has(c.code)) {
            retry = this.opts.retryClose
                ? this.opts.retryClose(c)
                : c.code === 4401 && typeof this.opts.token === "function" && this.openedSinceClose;
        }
        const max = this.opts.reconnect ? this.opts.reconnect.maxAttempts ?? Infinity : Infinity;
        if (retry && this.attempt >= max)
            retry = false;
        const info = { code: c.code, reason: c.reason, willRetry: retry };
        this.lastClose = info;
        this.openedSinceClose = false;
        this.report("close", info);
        if (!retry) {
            this.st = "closed";
            this.failPending("closed", `the connection closed with ${c.code} ${c.reason}`.trim());
            for (const q of this.queue.drain())
                this.dropped(q, "closed");
            this.report("stop", { code: c.code, reason: c.reason });
            return;
        }
        const r = this.opts.reconnect || {};
        const lo = Math.max(1, r.min ?? 500);
        const delay = backoffDelay(this.attempt, lo, Math.max(lo, r.max ?? 30000), this.random);
        this.attempt++;
        this.st = "waiting";
        this.report("reconnect", { attempt: this.attempt, delay, code: c.code, reason: c.reason });
        this.retryTimer = setTimeout(() => {
            if (this.st === "waiting")
                void this.open();
        }, delay);
    }
    failPending(code, message) {
        for (const [id, p] of this.pending) {
            clearTimeout(p.timer);
            this.pending.delete(id);
            if (!p.probe)
                p.reject(new ForgeError(code, message));
        }
    }
    received(data) {
        this.hb.lastRx = Date.now();
        this.hb.probing = false;
        if (typeof data !== "string") {
            this.report("error", { code: "unsupported", message: "a binary message: forge's envelopes are text" });
            return;
        }
        this.counters.received++;
        const m = decodeMessage(this.mode, data);
        if (m instanceof Error) {
            this.report("error", { code: "malformed", message: `a message the client cannot read: ${m.message}` });
            return;
        }
        const meta = { event: m.event };
        if (m.id !== undefined)
            meta.id = m.id;
        if (m.channel !== undefined)
            meta.channel = m.channel;
        if (m.position)
            meta.position = m.position;
        // Replies: an ack, or an error event, with the id of a request.
        if (m.id !== undefined && (m.event.endsWith(".ack") || m.event === "error")) {
            const p = this.pending.get(m.id);
            if (p) {
                this.pending.delete(m.id);
                clearTimeout(p.timer);
                if (m.event === "error") {
                    const e = (m.payload ?? {});
                    p.reject(new ForgeError(String(e.code ?? "error"), String(e.message ?? "")));
                }
                else {
                    p.resolve(m.payload);
                }
                return;
            }
            if (m.event.endsWith(".ack"))
                return; // late: its request timed out
        }
        // The server's requests carry an id; its other events do not.
        if (m.id !== undefined && m.event !== "error") {
            void this.answer(m.event, m.id, m.payload, meta);
            return;
        }
        if (m.position && !this.track(m.position))
            return;
        if (m.event === "recovery")
            this.recovered(m.payload);
        if (m.event === "error") {
            const e = (m.payload ?? {});
            this.report("error", { code: String(e.code ?? "error"), message: String(e.message ?? "") });
        }
        for (const fn of this.listeners.get(m.event) ?? [])
            this.deliver(() => fn(m.payload, meta));
        for (const fn of this.anyListeners)
            this.deliver(() => fn(m.event, m.payload, meta));
    }
    deliver(f) {
        try {
            f();
        }
        catch (err) {
            // A listener's error is its own: rethrow it outside the client.
            queueMicrotask(() => {
                throw err;
            });
        }
    }
    // track records a room message's position; it returns false for a
    // duplicate, which is not delivered.
    track(p) {
        const last = this.positions.get(p.room);
        if (last && last.epoch === p.epoch && p.offset <= last.offset) {
            this.counters.duplicates++;
            return false;
        }
        if (last && (last.epoch !== p.epoch || p.offset !== last.offset + 1) && !this.recovering.has(p.room)) {
            this.report("gap", { room: p.room, from: last, to: p });
        }
        this.positions.set(p.room, p);
        return true;
    }
    recovered(payload) {
        const r = payload;
        if (typeof r?.room !== "string" || !r.position)
            return;
        const position = { room: r.room, epoch: String(r.position.epoch ?? ""), offset: Number(r.position.offset ?? 0) };
        const from = this.recovering.get(r.room);
        this.recovering.delete(r.room);
        this.positions.set(r.room, position);
        const info = { room: r.room, recovered: !!r.recovered, replayed: Number(r.replayed ?? 0), position };
        if (from)
            info.from = from;
        this.report("recovery", info);
    }
    async answer(event, id, payload, meta) {
        const h = this.handlers.get(event);
        let data;
        if (!h) {
            data = encodeMessage(this.mode, "error", { code: "unknown_event", message: `the client handles no ${event} requests` }, id, meta.channel);
        }
        else {
            try {
                const reply = await h(payload, meta);
                data = encodeMessage(this.mode, event + ".ack", reply ?? {}, id, meta.channel);
            }
            catch (err) {
                const e = err;
                const code = typeof e?.code === "string" ? e.code : "internal";
                const message = typeof e?.message === "string" ? e.message : String(err);
                this.report("error", { code, message, event });
                data = encodeMessage(this.mode, "error", { code, message }, id, meta.channel);
            }
        }
        if (this.st === "open")
            this.sendNow(data); // a reply is useless to a later connection
    }
    startHeartbeat() {
        const h = this.opts.heartbeat;
        if (h === false)
            return;
        const interval = h?.interval ?? 25000;
        const timeout = h?.timeout ?? 10000;
        this.hb.lastRx = Date.now();
        this.hb.probing = false;
        const tick = () => {
            if (this.st !== "open")
                return;
            const idle = Date.now() - this.hb.lastRx;
            if (this.hb.probing) {
                // Nothing arrived since the probe was sent: the link is dead.
                this.counters.heartbeatTimeouts++;
                const ws = this.ws;
                this.ws = undefined;
                if (ws) {
                    detach(ws);
                    ws.close(4000, "heartbeat timeout");
                }
                this.lost({ code: 4000, reason: "heartbeat timeout" });
                return;
            }
            if (idle >= interval) {
                this.hb.probing = true;
                const event = h?.event ?? (this.mode === "command" ? "ping" : "unsubscribe");
                const payload = h?.payload ?? (h?.event === undefined && this.mode === "event" ? { events: [heartbeatEvent] } : undefined);
                this.call(event, payload, { timeout }, true).catch(() => { });
                this.hb.timer = setTimeout(tick, timeout);
                return;
            }
            this.hb.timer = setTimeout(tick, interval - idle);
        };
        this.hb.timer = setTimeout(tick, interval);
    }
    stopHeartbeat() {
        clearTimeout(this.hb.timer);
        this.hb.timer = undefined;
        this.hb.probing = false;
    }
}
function detach(ws) {
    ws.onopen = ws.onmessage = ws.onerror = null;
    ws.onclose = null;
}
/** connect makes a client and connects it. */
export function connect(opts) {
    return new Client(opts).connect();
}
