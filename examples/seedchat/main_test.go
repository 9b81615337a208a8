package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/forgekit/forge/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestChatBinary builds the example as it is shipped, runs it with PORT set
// (it calls app.Run, which also installs the SIGTERM handler), chats through
// it over loopback, and stops it with SIGTERM.
func TestChatBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "seedchat")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	_, port, _ := net.SplitHostPort(testkit.FreeAddr(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), "PORT="+port)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
	}()
	waitListening(t, "127.0.0.1:"+port)

	dial := func(room, user string) *websocket.Conn {
		t.Helper()
		u := fmt.Sprintf("ws://127.0.0.1:%s/ws/chat/%s?user=%s", port, room, url.QueryEscape(user))
		ws, _, err := websocket.DefaultDialer.Dial(u, nil)
		if err != nil {
			t.Fatalf("dial %s: %v", u, err)
		}
		t.Cleanup(func() { ws.Close() })
		return ws
	}
	read := func(ws *websocket.Conn) ChatMessage {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var m ChatMessage
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("read: %v", err)
		}
		return m
	}

	// A join is announced to those in the room when it happens, and the
	// handshake's answer comes before the handler joins: before bob comes,
	// ann must be in. zed hears ann's probes once both are in; what zed
	// and late probes say is skipped below.
	zed := dial("lobby", "zed")
	ann := dial("lobby", "ann")
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			ann.WriteJSON(ChatMessage{Content: "probe"})
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	for m := read(zed); m.User != "ann" || m.Content != "probe"; m = read(zed) {
	}
	close(stop)
	<-stopped
	skipped := func(m ChatMessage) bool { return m.User == "zed" || m.Content == "probe" }
	readOther := func(ws *websocket.Conn) ChatMessage {
		t.Helper()
		m := read(ws)
		for skipped(m) {
			m = read(ws)
		}
		return m
	}

	bob := dial("lobby", "bob")
	if m := readOther(ann); m.Type != "system" || m.Content != "bob joined the room" {
		t.Fatalf("ann got %+v, want bob's join", m)
	}
	other := dial("garden", "cy") // another room hears nothing of the lobby

	ann.WriteJSON(ChatMessage{Content: "hi bob"})
	m := readOther(bob)
	if m.Type != "message" || m.User != "ann" || m.Content != "hi bob" || m.Time == "" {
		t.Fatalf("bob got %+v", m)
	}
	bob.Close()
	if m := readOther(ann); m.Content != "bob left the room" {
		t.Fatalf("ann got %+v, want bob's leave", m)
	}

	// SIGTERM: every connection gets 1001, and the process exits cleanly.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, ws := range []*websocket.Conn{ann, other} { // zed's backlog is not read
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err := ws.ReadMessage()
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Fatalf("after SIGTERM: %v, want close 1001", err)
		}
	}
	if err := cmd.Wait(); err != nil {
		var out []string
		for l := range logs {
			out = append(out, l)
		}
		t.Fatalf("exit: %v\n%s", err, strings.Join(out, "\n"))
	}
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listening on %s", addr)
}
