package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/forgekit/forge/examples/internal/tcpproxy"
	"github.com/forgekit/forge/integration/browsertest"
	"github.com/forgekit/forge/internal/testkit"
)

// These tests drive forge's browser client (/forge.js) in headless
// chromium against the demo app, started in the test on loopback: every
// message crosses a real WebSocket. They judge by what the client reports
// (its lifecycle reports and counters) and by what arrives, in order,
// never by how long anything took.

// prelude loads the client into the page with the tests' helpers: token
// gets a demo token, watch records a client's reports and what it
// receives, until waits for a condition.
const prelude = `(async () => {
  window.forge = await import("/forge.js");
  window.token = async (user, ttl) => (await (await fetch("/token?user=" + user + (ttl ? "&ttl=" + ttl : ""), { method: "POST" })).json()).token;
  window.watch = (c) => {
    const w = { reports: [], said: [], news: [] };
    for (const k of ["open", "close", "reconnect", "stop", "recovery", "gap", "drop", "error"]) c.listen(k, (r) => w.reports.push({ kind: k, ...r }));
    c.on("said", (s, m) => w.said.push(s.text + "@" + (m.position ? m.position.offset : "")));
    c.on("news", (n) => w.news.push(n.text));
    return w;
  };
  window.count = (w, kind) => w.reports.filter((r) => r.kind === kind).length;
  window.until = (f) => new Promise((resolve) => { const i = setInterval(() => { if (f()) { clearInterval(i); resolve(true); } }, 10); });
  return true;
})()`

// open navigates to the demo page at base and loads the prelude.
func open(t *testing.T, b *browsertest.Browser, base string) {
	t.Helper()
	b.Do(t, "open the demo page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(browsertest.CSS("#log")))
	eval[bool](t, b, "load the client", prelude)
}

// eval runs a script, awaiting the Promise it gives, and returns its value.
func eval[T any](t *testing.T, b *browsertest.Browser, step, js string) T {
	t.Helper()
	return browsertest.Value(t, b, step, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

// evalJSON runs a script that returns JSON.stringify(...) and decodes it.
func evalJSON(t *testing.T, b *browsertest.Browser, step, js string, v any) {
	t.Helper()
	s := eval[string](t, b, step, js)
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%s: %v in %s", step, err, s)
	}
}

// report is one lifecycle report of the client, flattened.
type report struct {
	Kind      string    `json:"kind"`
	Code      int       `json:"code"`
	Reason    string    `json:"reason"`
	WillRetry bool      `json:"willRetry"`
	Attempt   int       `json:"attempt"`
	Delay     float64   `json:"delay"`
	Reconnect bool      `json:"reconnect"`
	Room      string    `json:"room"`
	Recovered bool      `json:"recovered"`
	Replayed  int       `json:"replayed"`
	From      *position `json:"from"`
	Position  *position `json:"position"`
	Event     string    `json:"event"`
	Bytes     int       `json:"bytes"`
	Message   string    `json:"message"`
}

type position struct {
	Room   string `json:"room"`
	Epoch  string `json:"epoch"`
	Offset int    `json:"offset"`
}

type stats struct {
	Attempts          int `json:"attempts"`
	Opens             int `json:"opens"`
	Dropped           int `json:"dropped"`
	DroppedBytes      int `json:"droppedBytes"`
	Queued            int `json:"queued"`
	QueuedBytes       int `json:"queuedBytes"`
	Duplicates        int `json:"duplicates"`
	HeartbeatTimeouts int `json:"heartbeatTimeouts"`
}

func kinds(rs []report, kind string) []report {
	var out []report
	for _, r := range rs {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// TestClientEventsInChromium: requests answered by acks, rejected by error
// events, the server's requests answered by handlers, server pushes,
// subscriptions (?events= and at run time), and closes with 1008 and 1003
// that stop the client.
func TestClientEventsInChromium(t *testing.T) {
	srv := serve(t, "127.0.0.1:0")
	b := browsertest.New(t)
	open(t, b, srv.URL)

	var out struct {
		Echo    map[string]string
		Who     map[string]string
		Fail    []string
		Invalid string
		Yes     map[string]bool
		No      map[string]bool
		Emitted bool
	}
	evalJSON(t, b, "connect and make requests", `(async () => {
  const c = forge.connect({ url: "/ws/demo", protocols: ["demo.v1"], token: await token("ann") });
  window.c1 = c; window.w1 = watch(c);
  c.handle("confirm", (q) => ({ yes: q.text === "sure?" }));
  await until(() => c.state === "open");
  const out = {};
  out.echo = await c.request("echo", { text: "hi" });
  out.who = await c.request("whoami", {});
  out.fail = await c.request("fail", {}).then(() => ["resolved"], (e) => [e.name, e.code, e.message]);
  out.invalid = await c.request("echo", { text: "" }).then(() => "resolved", (e) => e.code);
  out.yes = await c.request("ask", { text: "sure?" });
  out.no = await c.request("ask", { text: "really?" });
  out.emitted = c.emit("echo", { text: "nobody waits for this" });
  return JSON.stringify(out);
})()`, &out)
	if out.Echo["text"] != "hi" || out.Who["subject"] != "ann" {
		t.Errorf("echo %v, whoami %v", out.Echo, out.Who)
	}
	if !slices.Equal(out.Fail, []string{"ForgeError", "nope", "fail always fails"}) {
		t.Errorf("fail was not rejected by its error event: %v", out.Fail)
	}
	if out.Invalid != "invalid_payload" {
		t.Errorf("an invalid payload: %q", out.Invalid)
	}
	if !out.Yes["yes"] || out.No["yes"] || len(out.No) != 1 {
		t.Errorf("the confirm handler's answers reached the server as %v and %v", out.Yes, out.No)
	}
	if !out.Emitted {
		t.Error("emit on an open connection returned false")
	}

	// Server push, then unsubscribing and subscribing again at run time.
	srv.post(t, "/news", `{"text":"first"}`, http.StatusNoContent)
	eval[bool](t, b, "receive news", `until(() => w1.news.length === 1)`)
	eval[bool](t, b, "unsubscribe", `c1.unsubscribe(["news"]).then(() => true)`)
	srv.post(t, "/news", `{"text":"second"}`, http.StatusNoContent)
	// The echo's ack follows anything the broadcast queued to the connection.
	eval[bool](t, b, "round trip", `c1.request("echo", { text: "barrier" }).then(() => true)`)
	eval[bool](t, b, "subscribe again", `c1.subscribe(["news"]).then(() => true)`)
	srv.post(t, "/news", `{"text":"third"}`, http.StatusNoContent)
	eval[bool](t, b, "receive news again", `until(() => w1.news.length === 2)`)

	// A client that asked for "said" only (?events=said) gets no news, and
	// without a confirm handler answers the server's request with
	// unknown_event; a handler that throws answers with its code; a request
	// without a reply times out.
	var second struct {
		News     []string
		Ask      string
		Refused  string
		TimedOut string
	}
	evalJSON(t, b, "a client subscribed to said only", `(async () => {
  const c = forge.connect({ url: "/ws/demo", protocols: ["demo.v1"], token: await token("bob"), events: ["said"] });
  const w = watch(c);
  await until(() => c.state === "open");
  await fetch("/news", { method: "POST", body: JSON.stringify({ text: "fourth" }) });
  await c.request("echo", { text: "barrier" });
  await until(() => w1.news.length === 3);
  const ask = await c.request("ask", { text: "?" }).then(() => "resolved", (e) => e.code);
  c.handle("confirm", () => { throw Object.assign(new Error("not today"), { code: "refused" }); });
  const refused = await c.request("ask", { text: "?" }).then(() => "resolved", (e) => e.code + ": " + e.message);
  c.handle("confirm", () => new Promise(() => {})); // never answers
  const timedOut = await c.request("ask", { text: "?" }, { timeout: 50 }).then(() => "resolved", (e) => e.code);
  c.close();
  return JSON.stringify({ news: w.news, ask, refused, timedOut });
})()`, &second)
	if len(second.News) != 0 {
		t.Errorf("?events=said received news: %v", second.News)
	}
	if second.Ask != "unknown_event" || second.Refused != "refused: not today" {
		t.Errorf("server requests without a handler: %q; with a throwing one: %q", second.Ask, second.Refused)
	}
	if second.TimedOut != "timeout" {
		t.Errorf("a request without a reply: %q, want timeout", second.TimedOut)
	}
	var news []string
	evalJSON(t, b, "read the news", `JSON.stringify(w1.news)`, &news)
	if !slices.Equal(news, []string{"first", "third", "fourth"}) {
		t.Errorf("news %v, want first, third, fourth (second came while unsubscribed)", news)
	}

	// 1008 is not retried blindly: the client stops and says why.
	var end struct {
		Reports []report
		After   string
		State   string
	}
	evalJSON(t, b, "be kicked", `(async () => {
  c1.emit("kick", { reason: "go away" });
  await until(() => c1.state === "closed");
  const after = await c1.request("echo", { text: "x" }).then(() => "resolved", (e) => e.code);
  return JSON.stringify({ reports: w1.reports, after, state: c1.state });
})()`, &end)
	closes, stops := kinds(end.Reports, "close"), kinds(end.Reports, "stop")
	if len(closes) != 1 || closes[0].Code != 1008 || closes[0].Reason != "go away" || closes[0].WillRetry {
		t.Errorf("close reports %+v, want one 1008 go away without retry", closes)
	}
	if len(stops) != 1 || stops[0].Code != 1008 || len(kinds(end.Reports, "reconnect")) != 0 {
		t.Errorf("stop reports %+v; reports %+v", stops, end.Reports)
	}
	if end.After != "closed" {
		t.Errorf("a request after the stop: %q, want closed", end.After)
	}
	// Nor is 1003: what the server cannot take will not change by itself.
	var unsupported []report
	evalJSON(t, b, "be closed with 1003", `(async () => {
  const c = forge.connect({ url: "/ws/demo", protocols: ["demo.v1"], token: await token("dora"), reconnect: { min: 20, max: 100 } });
  const w = watch(c);
  await until(() => c.state === "open");
  c.emit("kick", { reason: "binary only", as: "unsupported" });
  await until(() => c.state === "closed");
  await new Promise((r) => setTimeout(r, 300)); // longer than the backoff
  return JSON.stringify(w.reports);
})()`, &unsupported)
	closes, stops = kinds(unsupported, "close"), kinds(unsupported, "stop")
	if len(closes) != 1 || closes[0].Code != 1003 || closes[0].Reason != "binary only" || closes[0].WillRetry ||
		len(stops) != 1 || stops[0].Code != 1003 || len(kinds(unsupported, "reconnect")) != 0 {
		t.Errorf("after a 1003 the client reported %+v, want one close and one stop with 1003 and no reconnection", unsupported)
	}
	if p := b.Unexpected(); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
	b.CheckHosts(t, strings.TrimPrefix(srv.URL, "http://"))
}

// TestClientReconnectsAfterRestart stops the server, lets the client fail
// to reconnect a few times with backoff, queues messages meanwhile (one
// too many for the queue's cap), and serves again on the same port: the
// client reconnects with a fresh token, joins its room again, sends what
// it queued in order, and hears from the server that the room's history
// did not survive the restart.
func TestClientReconnectsAfterRestart(t *testing.T) {
	srv := serve(t, "127.0.0.1:0")
	b := browsertest.New(t)
	b.Expect("WebSocket connection to") // the refused attempts
	b.Expect("ERR_CONNECTION_REFUSED")
	open(t, b, srv.URL)
	eval[bool](t, b, "connect and join", `(async () => {
  window.tokens = [];
  const t = await token("ann-1"), t2 = await token("ann-2"), t3 = await token("ann-3");
  const c = forge.connect({ url: "/ws/demo", protocols: ["demo.v1"], reconnect: { min: 20, max: 250 }, queueBytes: 200,
    token: () => { tokens.push(tokens.length); return tokens.length === 1 ? t : tokens.length === 2 ? t2 : t3; } });
  window.c = c; window.w = watch(c);
  await until(() => c.state === "open");
  await c.join("lobby");
  await c.request("say", { room: "lobby", text: "before" });
  await until(() => w.said.length === 1);
  return true;
})()`)

	srv.stop()
	eval[bool](t, b, "fail to reconnect three times", `until(() => count(w, "reconnect") >= 3)`)
	var queued struct {
		Emits []bool
		Stats stats
		Drops []report
	}
	evalJSON(t, b, "queue while disconnected", `(() => {
  const emits = [c.emit("say", { room: "lobby", text: "queued-1" })];
  window.q2 = c.request("say", { room: "lobby", text: "queued-2" }, { timeout: 60000 });
  emits.push(c.emit("say", { room: "lobby", text: "x".repeat(150) }));
  return JSON.stringify({ emits, stats: c.stats(), drops: w.reports.filter((r) => r.kind === "drop") });
})()`, &queued)
	if !slices.Equal(queued.Emits, []bool{true, false}) || queued.Stats.Queued != 2 || queued.Stats.Dropped != 1 {
		t.Fatalf("queue: emits %v, stats %+v", queued.Emits, queued.Stats)
	}
	if len(queued.Drops) != 1 || queued.Drops[0].Event != "say" || queued.Drops[0].Reason != "full" || queued.Drops[0].Bytes <= 200-queued.Stats.QueuedBytes {
		t.Errorf("drop reports %+v (queued %d bytes)", queued.Drops, queued.Stats.QueuedBytes)
	}

	srv.start() // the same port
	var after struct {
		Reports []report
		Said    []string
		Tokens  int
		Stats   stats
		Who     map[string]string
	}
	evalJSON(t, b, "reconnect", `(async () => {
  await until(() => count(w, "open") === 2);
  await q2;
  await until(() => w.said.length === 3);
  const who = await c.request("whoami", {});
  return JSON.stringify({ reports: w.reports, said: w.said, tokens: tokens.length, stats: c.stats(), who });
})()`, &after)

	// Backoff: the attempts are numbered in order, each delay within the
	// ceiling of its attempt (min × 2^n, at most max).
	recs := kinds(after.Reports, "reconnect")
	for i, r := range recs {
		ceiling := min(250, 20<<i)
		if r.Attempt != i+1 || r.Delay < 0 || r.Delay >= float64(ceiling) {
			t.Errorf("reconnect %d: %+v, want attempt %d with a delay below %d", i, r, i+1, ceiling)
		}
	}
	if len(recs) < 3 || recs[0].Code != 1001 || recs[1].Code != 1006 {
		t.Errorf("reconnects %+v: want the shutdown's 1001, then refused handshakes (1006)", recs)
	}
	if after.Stats.Attempts != len(recs)+1 || after.Stats.Opens != 2 || after.Tokens != after.Stats.Attempts {
		t.Errorf("stats %+v, %d reconnects, token asked %d times: want one token per attempt", after.Stats, len(recs), after.Tokens)
	}
	if after.Who["subject"] != "ann-3" {
		t.Errorf("whoami after reconnecting: %v, want the refreshed token's ann-3", after.Who)
	}
	// Joined again before the queue was sent, in order.
	if len(after.Said) != 3 || !strings.HasPrefix(after.Said[1], "queued-1@") || !strings.HasPrefix(after.Said[2], "queued-2@") {
		t.Errorf("said %v: want before, then queued-1 and queued-2", after.Said)
	}
	rec := kinds(after.Reports, "recovery")
	if len(rec) != 1 || rec[0].Room != "lobby" || rec[0].Recovered || rec[0].From == nil || rec[0].From.Offset != 1 || rec[0].From.Epoch == rec[0].Position.Epoch {
		t.Errorf("recovery %+v: want lobby not recovered, from offset 1 of the old epoch", rec)
	}
	if p := b.Unexpected(); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
}

// TestClientRefreshesAnExpiredToken: the route closes connections with
// 4401 when their token expires. A client with a token function gets a
// fresh one and reconnects; one with a fixed token stops and says why.
func TestClientRefreshesAnExpiredToken(t *testing.T) {
	srv := serve(t, "127.0.0.1:0")
	b := browsertest.New(t)
	open(t, b, srv.URL)
	var out struct {
		Fresh  []report
		Fixed  []report
		Who    map[string]string
		Tokens int
		State  string
	}
	evalJSON(t, b, "expire both tokens", `(async () => {
  let n = 0;
  const fresh = forge.connect({ url: "/ws/demo", protocols: ["demo.v1"], reconnect: { min: 20, max: 100 },
    token: () => { n++; return token("fresh-" + n, n === 1 ? 1 : 3600); } });
  const wf = watch(fresh);
  const fixed = forge.connect({ url: "/ws/demo", protocols: ["demo.v1"], token: await token("fixed", 1), reconnect: { min: 20, max: 100 } });
  const wx = watch(fixed);
  await until(() => count(wf, "open") === 2 && count(wx, "stop") === 1);
  const who = await fresh.request("whoami", {});
  return JSON.stringify({ fresh: wf.reports, fixed: wx.reports, who, tokens: n, state: fixed.state });
})()`, &out)
	fc := kinds(out.Fresh, "close")
	if len(fc) != 1 || fc[0].Code != 4401 || !fc[0].WillRetry {
		t.Errorf("the fresh client's closes: %+v, want one 4401 with a retry", fc)
	}
	if out.Who["subject"] != "fresh-2" || out.Tokens != 2 {
		t.Errorf("whoami %v after %d tokens, want fresh-2 after 2", out.Who, out.Tokens)
	}
	xs := kinds(out.Fixed, "stop")
	if len(xs) != 1 || xs[0].Code != 4401 || xs[0].Reason == "" || len(kinds(out.Fixed, "reconnect")) != 0 || out.State != "closed" {
		t.Errorf("the fixed-token client: %+v, state %s; want a stop with 4401 and its reason, no reconnection", out.Fixed, out.State)
	}
	if p := b.Unexpected(); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
}

// TestClientResumesAfterADrop is issue 12's browser case: the client's
// connection drops (the network between it and the server fails), others
// speak in its room meanwhile, and when it reconnects with
// ?recover=lobby:EPOCH:OFFSET it receives exactly the missed messages, in
// order, then the live ones, with no gap and no duplicate.
func TestClientResumesAfterADrop(t *testing.T) {
	srv := serve(t, "127.0.0.1:0")
	px := tcpproxy.New(t, srv.addr)
	b := browsertest.New(t)
	b.Expect("WebSocket connection to")
	open(t, b, px.URL)
	eval[bool](t, b, "connect and join", `(async () => {
  const c = forge.connect({ url: "/ws/demo", protocols: ["demo.v1"], token: await token("ann"), reconnect: { min: 20, max: 200 } });
  window.c = c; window.w = watch(c);
  await until(() => c.state === "open");
  await c.join("lobby");
  return true;
})()`)
	bob := srv.dial(t, "/ws/demo", "bob")
	if e := request(t, bob, "join", "j", RoomRequest{Room: "lobby"}); e.Event != "join.ack" {
		t.Fatalf("bob's join: %+v", e)
	}
	say := func(i int) {
		t.Helper()
		if e := request(t, bob, "say", fmt.Sprint("s", i), Say{Room: "lobby", Text: fmt.Sprint("m", i)}); e.Event != "say.ack" {
			t.Fatalf("say %d: %+v", i, e)
		}
	}
	for i := 1; i <= 3; i++ {
		say(i)
	}
	eval[bool](t, b, "hear three", `until(() => w.said.length === 3)`)

	px.Refuse(true)
	px.Drop()
	testkit.WaitFor(t, "a refused reconnection", func() bool { return px.Refused() >= 1 })
	for i := 4; i <= 8; i++ {
		say(i)
	}
	px.Refuse(false)
	eval[bool](t, b, "recover", `until(() => count(w, "recovery") === 1)`)
	say(9)

	var out struct {
		Said     []string
		Reports  []report
		Stats    stats
		Position struct {
			Position position
			Seen     position
			Missed   *int
		}
		Elsewhere string
	}
	evalJSON(t, b, "hear the rest", `(async () => {
  await until(() => w.said.length >= 9);
  await c.request("echo", { text: "barrier" }); // anything more would have come before
  const position = await c.position("lobby");
  const elsewhere = await c.position("garden").then(() => "resolved", (e) => e.code);
  return JSON.stringify({ said: w.said, reports: w.reports, stats: c.stats(), position, elsewhere });
})()`, &out)
	if p := out.Position; p.Missed == nil || *p.Missed != 0 || p.Position.Offset != 9 || p.Seen.Offset != 9 || p.Seen.Epoch != p.Position.Epoch {
		t.Errorf("position check %+v, want the server and the client at offset 9", p)
	}
	if out.Elsewhere != "not_in_room" {
		t.Errorf("the position of a room the client is not in: %q", out.Elsewhere)
	}
	var want []string
	for i := 1; i <= 9; i++ {
		want = append(want, fmt.Sprintf("m%d@%d", i, i))
	}
	if !slices.Equal(out.Said, want) {
		t.Errorf("received %v, want %v", out.Said, want)
	}
	rec := kinds(out.Reports, "recovery")
	if len(rec) != 1 || !rec[0].Recovered || rec[0].Replayed != 5 || rec[0].From.Offset != 3 || rec[0].Position.Offset != 8 || rec[0].From.Epoch != rec[0].Position.Epoch {
		t.Errorf("recovery %+v: want recovered, 5 replayed, from 3 to 8 in one epoch", rec)
	}
	if g := kinds(out.Reports, "gap"); len(g) != 0 || out.Stats.Duplicates != 0 {
		t.Errorf("gaps %+v, duplicates %d", g, out.Stats.Duplicates)
	}
	if closes := kinds(out.Reports, "close"); len(closes) < 2 || closes[0].Code != 1006 {
		t.Errorf("closes %+v: want the drop (1006), then refused attempts", closes)
	}
	if p := b.Unexpected(); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
}

// TestClientHeartbeatReplacesADeadLink makes the link carry nothing while
// both ends keep it open: the client's probe goes unanswered, it drops the
// connection and reconnects.
func TestClientHeartbeatReplacesADeadLink(t *testing.T) {
	srv := serve(t, "127.0.0.1:0")
	px := tcpproxy.New(t, srv.addr)
	b := browsertest.New(t)
	open(t, b, px.URL)
	eval[bool](t, b, "connect", `(async () => {
  const c = forge.connect({ url: "/ws/demo", protocols: ["demo.v1"], token: await token("ann"), reconnect: { min: 20, max: 100 },
    heartbeat: { interval: 300, timeout: 1000 } });
  window.c = c; window.w = watch(c);
  await until(() => c.state === "open");
  return true;
})()`)
	px.Swallow()
	var out struct {
		Reports []report
		Stats   stats
		Echo    map[string]string
	}
	evalJSON(t, b, "replace the dead link", `(async () => {
  await until(() => count(w, "open") === 2);
  const echo = await c.request("echo", { text: "alive" });
  return JSON.stringify({ reports: w.reports, stats: c.stats(), echo });
})()`, &out)
	// Only the heartbeat closed connections (a probe slowed past its
	// timeout on a loaded machine would count as one more).
	closes := kinds(out.Reports, "close")
	if len(closes) == 0 {
		t.Error("no connection closed")
	}
	for _, c := range closes {
		if c.Code != 4000 || c.Reason != "heartbeat timeout" || !c.WillRetry {
			t.Errorf("close %+v, want heartbeat timeouts only", c)
		}
	}
	if out.Stats.HeartbeatTimeouts != len(closes) || out.Echo["text"] != "alive" {
		t.Errorf("stats %+v after %d closes, echo %v", out.Stats, len(closes), out.Echo)
	}
	if p := b.Unexpected(); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
}

// TestSeedChatPage is the command-envelope chat page (/seed.html) in two
// tabs: what one types appears in the other.
func TestSeedChatPage(t *testing.T) {
	srv := serve(t, "127.0.0.1:0")
	b := browsertest.New(t)
	bob := b.NewTab(t)
	join := func(user string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(srv.URL + "/seed.html"),
			chromedp.WaitVisible(browsertest.CSS("#connect")),
			chromedp.SetValue(browsertest.CSS("#user"), user),
			chromedp.Click(browsertest.CSS("#connect")),
			chromedp.WaitVisible(browsertest.CSS(`#status[data-joined="lobby"]`)),
		}
	}
	b.Do(t, "ann joins", join("ann")...)
	bob.Do(t, "bob joins", join("bob")...)
	b.Do(t, "ann says hello",
		chromedp.SendKeys(browsertest.CSS("#text"), "hello bob"),
		chromedp.Click(browsertest.CSS("#send")),
		chromedp.WaitVisible(browsertest.CSS("#messages li.mine")),
	)
	bob.Do(t, "bob hears it", chromedp.WaitVisible(browsertest.CSS("#messages li.theirs")))
	if text := browsertest.Value(t, bob, "read bob's page", chromedp.Evaluate[string](`document.querySelector("#messages").textContent`)); text != "ann: hello bob" {
		t.Errorf("bob's page shows %q", text)
	}
	mine := browsertest.Value(t, b, "read ann's page", chromedp.Evaluate[string](`document.querySelector("#messages").textContent`))
	if mine != "ann: hello bob" {
		t.Errorf("ann's page shows %q", mine)
	}
	if p := b.Unexpected(); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
}
