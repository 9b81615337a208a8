package faults

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/forgekit/forge/internal/testkit"
)

// exampleShutdownTimeout is the shutdown timeout of examples/bench, which
// keeps forge's default.
const exampleShutdownTimeout = 15 * time.Second

// buildExample builds the example main package at dir (relative to the
// module root) into the test's temporary directory, with the race
// detector when the test has it, and returns the binary's path.
func buildExample(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(dir))
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./"+dir)...)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./%s: %v\n%s", dir, err, out)
	}
	return bin
}

// sigtermClient is one connection of the SIGTERM test: an echo client
// that keeps one numbered message in flight, or a member of the room
// that counts every publisher's numbered messages.
type sigtermClient struct {
	ws   *websocket.Conn
	room bool
	id   uint32

	sent atomic.Uint32 // echo: messages sent
	got  uint32        // echo: echoes received, all in order
	last []uint32      // room: the last number received from each publisher
	msgs int           // room: messages received
	code int           // the close code received; 0 if none came
	text string        // the close reason
	err  error         // a failure other than the server's close
}

// message is what a client sends: its id and a number, 8 bytes.
func message(id, seq uint32) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint32(b, id)
	binary.BigEndian.PutUint32(b[4:], seq)
	return b
}

// read reads until the server closes the connection, checking order.
// Echo clients send their next message after each echo, at most every
// pace; publishers is how many clients publish to the room.
func (c *sigtermClient) read(publishers int, stop <-chan struct{}) {
	if c.room {
		c.last = make([]uint32, publishers)
	}
	c.ws.SetReadDeadline(time.Now().Add(10 * time.Minute))
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.code, c.text = ce.Code, ce.Text
			} else {
				c.err = err
			}
			return
		}
		if len(data) != 8 {
			c.err = fmt.Errorf("a message of %d bytes", len(data))
			return
		}
		id, seq := binary.BigEndian.Uint32(data), binary.BigEndian.Uint32(data[4:])
		if c.room {
			if int(id) >= publishers || seq != c.last[id]+1 {
				c.err = fmt.Errorf("publisher %d's message %d after %d", id, seq, c.last[min(int(id), publishers-1)])
				return
			}
			c.last[id] = seq
			c.msgs++
			continue
		}
		if id != c.id || seq != c.got+1 {
			c.err = fmt.Errorf("echo of %d/%d after %d", id, seq, c.got)
			return
		}
		c.got++
		select {
		case <-stop:
		default:
			// The next message; the writer is this reader, and the
			// server's close may race it, which is no failure.
			next := c.sent.Add(1)
			_ = c.ws.WriteMessage(websocket.BinaryMessage, message(c.id, next))
		}
	}
}

// TestSIGTERMUnderLoad: a real process of examples/bench serves echo
// clients, each with a message always in flight, and a room whose
// members receive a steady broadcast, when it gets SIGTERM. Every client
// gets 1001 with a reason, after every message it was due in order, and
// the process exits 0 (which it does only if its shutdown finished within
// its timeout) with nothing logged at Warn or above.
func TestSIGTERMUnderLoad(t *testing.T) {
	// Not parallel: the load is the test's alone.
	conns, room, publishers, rate := 2000, 200, 4, 50.0
	if full() {
		conns, room, publishers, rate = 10000, 1000, 10, 100.0
	}
	raiseFileLimit(t, uint64(conns+2048)) // the child inherits it
	bin := buildExample(t, "examples/bench")
	addr := testkit.FreeAddr(t)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-addr", addr)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // after a failure; harmless after exit
		<-exited
	})
	testkit.WaitWithin(t, "examples/bench answers /stats", time.Minute, func() bool {
		resp, err := http.Get("http://" + addr + "/stats")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	// Connect everyone, a few at a time.
	clients := make([]*sigtermClient, conns)
	dialer := websocket.Dialer{HandshakeTimeout: time.Minute}
	var (
		dialWG  sync.WaitGroup
		dialErr atomic.Value
		next    atomic.Int64
	)
	for range 32 {
		dialWG.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= conns {
					return
				}
				path := "/echo"
				if i < room {
					path = "/room"
				}
				ws, _, err := dialer.Dial("ws://"+addr+path, nil)
				if err != nil {
					dialErr.CompareAndSwap(nil, fmt.Errorf("dial %s #%d: %w", path, i, err))
					return
				}
				answerClose(ws)
				clients[i] = &sigtermClient{ws: ws, room: i < room, id: uint32(i)}
			}
		})
	}
	dialWG.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		for _, c := range clients {
			if c != nil {
				c.ws.Close()
			}
		}
		t.Fatal(err)
	}
	// The room's members must all be in before anything is published.
	testkit.WaitWithin(t, "the room is full", time.Minute, func() bool { return roomMembers(addr) == room })

	stop := make(chan struct{})
	var readers sync.WaitGroup
	for _, c := range clients {
		if !c.room {
			// Sent before the reader starts, which writes the next ones.
			c.sent.Add(1)
			if err := c.ws.WriteMessage(websocket.BinaryMessage, message(c.id, 1)); err != nil {
				t.Errorf("echo client %d: %v", c.id, err)
			}
		}
		readers.Go(func() { c.read(publishers, stop) })
	}
	defer func() {
		close(stop)
		for _, c := range clients {
			c.ws.Close()
		}
		readers.Wait()
	}()

	// Publishers: connections of their own, each sending a numbered
	// message to the room at rate/publishers per second.
	var pubWG sync.WaitGroup
	pubStop := make(chan struct{})
	var published atomic.Int64
	for p := range publishers {
		ws, _, err := dialer.Dial("ws://"+addr+"/room", nil)
		if err != nil {
			t.Fatal(err)
		}
		pubWG.Go(func() { // discard what the room sends back
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		})
		pubWG.Go(func() {
			defer ws.Close()
			tick := time.NewTicker(time.Duration(float64(time.Second) * float64(publishers) / rate))
			defer tick.Stop()
			for seq := uint32(1); ; seq++ {
				select {
				case <-pubStop:
					return
				case <-tick.C:
				}
				if ws.WriteMessage(websocket.BinaryMessage, message(uint32(p), seq)) != nil {
					return
				}
				published.Add(1)
			}
		})
	}

	// Let the load run, then SIGTERM while it does.
	time.Sleep(3 * time.Second)
	start := time.Now()
	t.Logf("SIGTERM at %s", start.Format("15:04:05.000"))
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	select {
	case exitErr = <-exited:
		exited <- exitErr // for the cleanup
	case <-time.After(4 * exampleShutdownTimeout):
		t.Fatalf("the process did not exit within 4× its shutdown timeout after SIGTERM")
	}
	exitAfter := time.Since(start)
	close(pubStop)
	pubWG.Wait()
	readersDone := make(chan struct{})
	go func() { readers.Wait(); close(readersDone) }()
	select {
	case <-readersDone:
	case <-time.After(time.Minute):
		t.Fatalf("clients still reading a minute after the process exited")
	}

	if exitErr != nil {
		t.Errorf("examples/bench exited with %v after SIGTERM, want 0", exitErr)
	}
	var (
		byOutcome        = map[string]int{}
		echoes, roomMsgs int64
		examples         []string
	)
	for _, c := range clients {
		outcome := fmt.Sprintf("close %d %q", c.code, c.text)
		if c.err != nil {
			outcome = "error: " + kindOfErr(c.err)
		}
		byOutcome[outcome]++
		if c.err != nil || c.code != websocket.CloseGoingAway || c.text == "" {
			if len(examples) < 5 {
				examples = append(examples, fmt.Sprintf("client %d (room %v): %s", c.id, c.room, outcome))
			}
		}
		echoes += int64(c.got)
		roomMsgs += int64(c.msgs)
	}
	t.Logf("SIGTERM to %d connections (%d in the room, %d publishers at %.0f msg/s): exit after %v; %d echoes and %d room messages received in order; outcomes: %v",
		conns, room, publishers, rate, exitAfter.Round(time.Millisecond), echoes, roomMsgs, byOutcome)
	if n := byOutcome[fmt.Sprintf("close %d %q", websocket.CloseGoingAway, "server shutting down")]; n != conns {
		t.Errorf("%d of %d clients got 1001 with its reason; the first others: %s", n, conns, strings.Join(examples, "; "))
	}
	if published.Load() == 0 || roomMsgs == 0 || echoes == int64(conns-room) {
		t.Errorf("no load when SIGTERM came: %d published, %d room messages, %d echoes", published.Load(), roomMsgs, echoes)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line != "" {
			t.Errorf("examples/bench logged: %s", line)
		}
	}
}

// roomMembers asks examples/bench how many members /room has.
func roomMembers(addr string) int {
	resp, err := http.Get("http://" + addr + "/stats")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var st struct {
		Members int `json:"room_members"`
	}
	if json.NewDecoder(resp.Body).Decode(&st) != nil {
		return -1
	}
	return st.Members
}

// kindOfErr is err's text without addresses, to count errors by kind.
func kindOfErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.Contains(s[:i], "127.0.0.1") {
		return s[i+2:]
	}
	return s
}
