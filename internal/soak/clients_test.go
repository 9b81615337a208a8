package soak

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// The clients run in a child process, this test binary started again with
// childEnv set: the server's RSS and goroutines are then its own, and each
// process has its own file limit for its half of the sockets.

// childEnv, when set, holds the clientConfig of a client process.
const childEnv = "FORGE_SOAK_CLIENTS"

// clientConfig is what the test tells its client process.
type clientConfig struct {
	URL        string        `json:"url"` // ws://127.0.0.1:PORT
	Conns      int           `json:"conns"`
	Room       int           `json:"room"`
	Publishers int           `json:"publishers"`
	RoomRate   float64       `json:"room_rate"`
	Churn      float64       `json:"churn"`
	Drain      time.Duration `json:"drain"`
	Cap        time.Duration `json:"cap"` // the process exits by itself after this long
}

// totals counts one kind of traffic, echo or room.
type totals struct {
	Sent      int64   `json:"sent"`       // messages sent
	Expected  int64   `json:"expected"`   // arrivals due: Sent for echo, Sent × members for the room
	Received  int64   `json:"received"`   // arrivals due that came (each counted once)
	Lost      int64   `json:"lost"`       // Expected − Received
	Dup       int64   `json:"dup"`        // arrivals of a message that had come before
	Reordered int64   `json:"reordered"`  // messages that came after a later one of their stream
	Foreign   int64   `json:"foreign"`    // arrivals that are no message sent to that stream
	MaxLagMS  float64 `json:"max_lag_ms"` // how far a send fell behind its schedule, at worst
}

// churnTotals counts the short-lived connections.
type churnTotals struct {
	Started  int64         `json:"started"`
	OK       int64         `json:"ok"`
	Failed   failureReport `json:"failed"`
	Skipped  int64         `json:"skipped"` // not started: too many still open
	MaxLagMS float64       `json:"max_lag_ms"`
}

// clientResult is the client process's report, its last line.
type clientResult struct {
	Echo     totals        `json:"echo"`
	Room     totals        `json:"room"`
	Churn    churnTotals   `json:"churn"`
	Errors   failureReport `json:"errors"` // failures of the steady connections
	ConnectS float64       `json:"connect_s"`
	SteadyS  float64       `json:"steady_s"`
	DrainS   float64       `json:"drain_s"`
}

// failures counts errors and keeps the first, the times of the first and
// the last, and a count per kind of error (its text with the numbers
// taken out).
type failures struct {
	n       atomic.Int64
	mu      sync.Mutex // guards the rest
	first   string
	firstAt time.Time
	lastAt  time.Time
	kinds   map[string]int64
}

// kindOf returns msg with every run of at least minDigits digits replaced
// by N, so that messages that differ only in ids, ports and counts are
// counted together.
func kindOf(msg string, minDigits int) string {
	var b strings.Builder
	for i := 0; i < len(msg); {
		j := i
		for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
			j++
		}
		switch {
		case j-i >= minDigits:
			b.WriteByte('N')
		case j > i:
			b.WriteString(msg[i:j])
		default:
			b.WriteByte(msg[i])
			j++
		}
		i = j
	}
	return b.String()
}

// maxKinds bounds the kinds of error kept apart; the rest count as "other".
const maxKinds = 20

func (f *failures) add(format string, args ...any) {
	f.n.Add(1)
	msg := fmt.Sprintf(format, args...)
	kind := kindOf(msg, 1)
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.first == "" {
		f.first, f.firstAt = msg, now
		f.kinds = make(map[string]int64)
	}
	f.lastAt = now
	if _, ok := f.kinds[kind]; !ok && len(f.kinds) >= maxKinds {
		kind = "other"
	}
	f.kinds[kind]++
}

// report fills r; times are seconds since start.
func (f *failures) report(start time.Time) failureReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := failureReport{N: f.n.Load(), First: f.first, Kinds: f.kinds}
	if f.first != "" {
		r.FirstS, r.LastS = f.firstAt.Sub(start).Seconds(), f.lastAt.Sub(start).Seconds()
	}
	return r
}

// failureReport is what failures tell the test.
type failureReport struct {
	N      int64            `json:"n"`
	First  string           `json:"first,omitempty"`
	FirstS float64          `json:"first_s,omitempty"` // since the steady phase began
	LastS  float64          `json:"last_s,omitempty"`
	Kinds  map[string]int64 `json:"kinds,omitempty"`
}

func (r failureReport) String() string {
	if r.N == 0 {
		return "none"
	}
	kinds := make([]string, 0, len(r.Kinds))
	for k, n := range r.Kinds {
		kinds = append(kinds, fmt.Sprintf("%d× %s", n, k))
	}
	slices.Sort(kinds)
	return fmt.Sprintf("%d, from %.0f s to %.0f s; the first: %s; by kind: %s", r.N, r.FirstS, r.LastS, r.First, strings.Join(kinds, "; "))
}

// maxLag keeps the largest delay observed.
type maxLag struct{ ns atomic.Int64 }

func (m *maxLag) observe(d time.Duration) {
	for {
		old := m.ns.Load()
		if int64(d) <= old || m.ns.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

func (m *maxLag) ms() float64 { return float64(m.ns.Load()) / 1e6 }

// steadyConn is an echo connection or a room member. One sender goroutine
// writes it (its sent counter and buffer are the sender's) and one reader
// reads it (its streams are the reader's).
type steadyConn struct {
	ws      *websocket.Conn
	kind    byte // 'E' echo, 'R' room
	id      uint32
	dead    atomic.Bool // a read or write failed: send no more
	sent    uint32
	out     [msgSize]byte
	streams []stream // echo: its own; room: one per publisher
}

// counters are the client process's running totals, read by the drain.
type counters struct {
	echoArrived, roomArrived atomic.Int64 // new arrivals
	echoForeign, roomForeign atomic.Int64
	closing                  atomic.Bool // the steady connections are being closed
	errs                     failures
}

// read reads c until it fails or, once closing, the server answers the
// close handshake.
func (c *steadyConn) read(n *counters) {
	arrived, foreign := &n.echoArrived, &n.echoForeign
	if c.kind == 'R' {
		arrived, foreign = &n.roomArrived, &n.roomForeign
	}
	buf := make([]byte, msgSize+1)
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			c.dead.Store(true)
			var ce *websocket.CloseError
			if n.closing.Load() && errors.As(err, &ce) && ce.Code == websocket.CloseNormalClosure {
				return
			}
			n.errs.add("%c%d: read: %v", c.kind, c.id, err)
			return
		}
		m, err := io.ReadFull(r, buf)
		if err == nil { // longer than any message sent; NextReader skips the rest
			foreign.Add(1)
			continue
		}
		kind, id, seq, ok := decode(buf[:m])
		s := -1
		switch {
		case !ok || kind != c.kind || seq >= maxSeq:
		case kind == 'E' && id == c.id:
			s = 0
		case kind == 'R' && int(id) < len(c.streams):
			s = int(id)
		}
		if s < 0 {
			foreign.Add(1)
			continue
		}
		if c.streams[s].add(seq) {
			arrived.Add(1)
		}
	}
}

// send writes c's next message.
func (c *steadyConn) send(n *counters) {
	if c.dead.Load() {
		return
	}
	encode(c.out[:], c.kind, c.id, c.sent)
	if err := c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second)); err == nil {
		err = c.ws.WriteMessage(websocket.TextMessage, c.out[:])
		if err == nil {
			c.sent++
			return
		}
		n.errs.add("%c%d: write: %v", c.kind, c.id, err)
	}
	c.dead.Store(true)
}

// sleepUntil waits until at and reports false if stop closes first.
func sleepUntil(at time.Time, stop <-chan struct{}) bool {
	d := time.Until(at)
	if d <= 0 {
		select {
		case <-stop:
			return false
		default:
			return true
		}
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-stop:
		return false
	case <-tm.C:
		return true
	}
}

var dialer = websocket.Dialer{HandshakeTimeout: time.Minute, ReadBufferSize: 1024, WriteBufferSize: 1024}

// dialAll opens n connections to url, 32 at a time.
func dialAll(url string, kind byte, n, streams int) ([]*steadyConn, error) {
	conns := make([]*steadyConn, n)
	var (
		next    atomic.Int64
		dialErr atomic.Value
		wg      sync.WaitGroup
	)
	for range min(32, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || dialErr.Load() != nil {
					return
				}
				ws, _, err := dialer.Dial(url, nil)
				if err != nil {
					dialErr.Store(fmt.Errorf("dial %s (%d of %d): %w", url, i, n, err))
					return
				}
				conns[i] = &steadyConn{ws: ws, kind: kind, id: uint32(i), streams: make([]stream, streams)}
			}
		})
	}
	wg.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		for _, c := range conns {
			if c != nil {
				c.ws.Close()
			}
		}
		return nil, err
	}
	return conns, nil
}

// churnOnce opens a connection, uses it briefly and closes it with the
// close handshake: on /echo one message goes there and back, on /room the
// member stays for holdRoom, receiving what the room gets.
func churnOnce(url string, op uint32, room bool) error {
	ws, _, err := dialer.Dial(url, nil)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer ws.Close()
	deadline := time.Now().Add(30 * time.Second)
	if err := ws.SetReadDeadline(deadline); err != nil {
		return err
	}
	if err := ws.SetWriteDeadline(deadline); err != nil {
		return err
	}
	if room {
		time.Sleep(holdRoom)
	} else {
		var out [msgSize]byte
		encode(out[:], 'C', op, 0)
		if err := ws.WriteMessage(websocket.TextMessage, out[:]); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		_, in, err := ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if string(in) != string(out[:]) {
			return fmt.Errorf("echo: got %.20q, want %.20q", in, out[:])
		}
	}
	if err := ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code == websocket.CloseNormalClosure {
				return nil
			}
			return fmt.Errorf("read after close: %w", err)
		}
	}
}

// holdRoom is how long a churning room member stays.
const holdRoom = 100 * time.Millisecond

// maxChurning bounds the churning connections open at once; when a
// stalled machine holds that many, the next are skipped (and counted).
const maxChurning = 1024

// churn opens rate connections per second, in turn to /echo, /room and
// /listen, until stop closes; at most maxChurning are open at once.
func churn(cfg clientConfig, start time.Time, stop <-chan struct{}) churnTotals {
	var (
		ct     churnTotals
		ops    sync.WaitGroup
		ok     atomic.Int64
		failed failures
		lag    maxLag
		sem    = make(chan struct{}, maxChurning)
	)
	interval := time.Duration(float64(time.Second) / cfg.Churn)
	for k := 0; ; k++ {
		at := start.Add(time.Duration(k) * interval)
		if !sleepUntil(at, stop) {
			break
		}
		lag.observe(time.Since(at))
		select {
		case sem <- struct{}{}:
		default:
			ct.Skipped++
			continue
		}
		ct.Started++
		room := k%3 == 1
		url := cfg.URL + "/echo"
		switch k % 3 {
		case 1:
			url = cfg.URL + "/room"
		case 2:
			url = cfg.URL + "/listen"
		}
		ops.Go(func() {
			defer func() { <-sem }()
			if err := churnOnce(url, uint32(k), room); err != nil {
				failed.add("churn %d (%s): %v", k, url, err)
				return
			}
			ok.Add(1)
		})
	}
	ops.Wait()
	ct.OK = ok.Load()
	ct.Failed = failed.report(start)
	ct.MaxLagMS = lag.ms()
	return ct
}

// runClients is the client process: it opens the room's members and the
// echo connections, says "ready", and on "go" (a line on stdin) sends at
// the configured rates until "stop". Then it waits up to Drain for what is
// still on the way, closes every connection with the close handshake and
// prints "result " and a clientResult in JSON. It prints "fail ..." and
// exits non-zero if it cannot go on.
func runClients() int {
	var cfg clientConfig
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &cfg); err != nil {
		fmt.Println("fail config:", err)
		return 1
	}
	time.AfterFunc(cfg.Cap, func() {
		fmt.Println("fail: the client process ran out of time")
		os.Exit(2)
	})
	cmds := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cmds <- sc.Text()
		}
		close(cmds)
	}()

	t0 := time.Now()
	room, err := dialAll(cfg.URL+"/room", 'R', cfg.Room, cfg.Publishers)
	if err != nil {
		fmt.Println("fail", err)
		return 1
	}
	// Half the echo connections read in their handler, half listen.
	echo, err := dialAll(cfg.URL+"/echo", 'E', cfg.Conns-cfg.Conns/2, 1)
	var listen []*steadyConn
	if err == nil {
		listen, err = dialAll(cfg.URL+"/listen", 'E', cfg.Conns/2, 1)
	}
	if err != nil {
		for _, c := range append(room, echo...) {
			c.ws.Close()
		}
		fmt.Println("fail", err)
		return 1
	}
	for i, c := range listen {
		c.id = uint32(len(echo) + i) // one numbering for every echo connection
	}
	echo = append(echo, listen...)
	all := append(append([]*steadyConn(nil), room...), echo...)
	var (
		n       counters
		readers sync.WaitGroup
	)
	for _, c := range all {
		readers.Go(func() { c.read(&n) })
	}
	res := clientResult{ConnectS: time.Since(t0).Seconds()}
	fmt.Println("ready")

	if cmd := <-cmds; cmd != "go" {
		fmt.Printf("fail: got %q, want go\n", cmd)
		return 1
	}
	start := time.Now()
	stop := make(chan struct{})
	var (
		senders          sync.WaitGroup
		echoLag, roomLag maxLag
	)
	// Echo: each connection once a second, the sends spread evenly over
	// the second by a few goroutines.
	shards := min(8, len(echo))
	for sh := range shards {
		senders.Go(func() {
			var mine []*steadyConn
			for i := sh; i < len(echo); i += shards {
				mine = append(mine, echo[i])
			}
			step := time.Second / time.Duration(len(mine))
			offset := step * time.Duration(sh) / time.Duration(shards)
			for k := 0; ; k++ {
				for j, c := range mine {
					at := start.Add(time.Duration(k)*time.Second + time.Duration(j)*step + offset)
					if !sleepUntil(at, stop) {
						return
					}
					echoLag.observe(time.Since(at))
					c.send(&n)
				}
			}
		})
	}
	// Room: the first Publishers members take turns.
	if cfg.RoomRate > 0 {
		interval := time.Duration(float64(time.Second) * float64(cfg.Publishers) / cfg.RoomRate)
		for p := range cfg.Publishers {
			senders.Go(func() {
				c := room[p]
				offset := interval * time.Duration(p) / time.Duration(cfg.Publishers)
				for k := 0; ; k++ {
					at := start.Add(offset + time.Duration(k)*interval)
					if !sleepUntil(at, stop) {
						return
					}
					roomLag.observe(time.Since(at))
					c.send(&n) // c.id is p

				}
			})
		}
	}
	if cfg.Churn > 0 {
		senders.Go(func() { res.Churn = churn(cfg, start, stop) })
	}

	if cmd := <-cmds; cmd != "stop" {
		fmt.Printf("fail: got %q, want stop\n", cmd)
		close(stop)
		senders.Wait()
		return 1
	}
	close(stop)
	senders.Wait() // the churning connections too
	res.SteadyS = time.Since(start).Seconds()

	var echoSent, roomSent int64
	for _, c := range echo {
		echoSent += int64(c.sent)
	}
	for _, c := range room[:cfg.Publishers] {
		roomSent += int64(c.sent)
	}
	echoDue, roomDue := echoSent, roomSent*int64(len(room))
	t1 := time.Now()
	for time.Since(t1) < cfg.Drain && (n.echoArrived.Load() < echoDue || n.roomArrived.Load() < roomDue) {
		time.Sleep(20 * time.Millisecond)
	}
	res.DrainS = time.Since(t1).Seconds()

	n.closing.Store(true)
	closeMsg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	for _, c := range all {
		deadline := time.Now().Add(15 * time.Second)
		if err := c.ws.WriteControl(websocket.CloseMessage, closeMsg, deadline); err != nil && !c.dead.Load() {
			n.errs.add("%c%d: close: %v", c.kind, c.id, err)
		}
		c.ws.SetReadDeadline(deadline)
	}
	readers.Wait()
	for _, c := range all {
		c.ws.Close()
	}

	// sum adds up the streams of conns; sent(c, p) is how many messages
	// stream p of c was due.
	sum := func(conns []*steadyConn, sent func(c *steadyConn, p int) uint32, t *totals) {
		for _, c := range conns {
			for p := range c.streams {
				s := &c.streams[p]
				got := s.count(sent(c, p))
				t.Received += got
				t.Foreign += s.distinct - got
				t.Dup += s.dup
				t.Reordered += s.reordered
			}
		}
		t.Lost = t.Expected - t.Received
	}
	res.Echo = totals{Sent: echoSent, Expected: echoDue, Foreign: n.echoForeign.Load(), MaxLagMS: echoLag.ms()}
	sum(echo, func(c *steadyConn, _ int) uint32 { return c.sent }, &res.Echo)
	res.Room = totals{Sent: roomSent, Expected: roomDue, Foreign: n.roomForeign.Load(), MaxLagMS: roomLag.ms()}
	sum(room, func(_ *steadyConn, p int) uint32 { return room[p].sent }, &res.Room)
	res.Errors = n.errs.report(start)
	b, err := json.Marshal(res)
	if err != nil {
		fmt.Println("fail", err)
		return 1
	}
	fmt.Printf("result %s\n", b)
	return 0
}
