// Command cluster is a chat that runs on several nodes sharing one broker:
// members connected to different nodes are in the same rooms, hear each
// other, can write to one another directly, and see who is in a room on
// every node.
//
// Alone, it starts three nodes in one process, joined by an in-process
// broker:
//
//	go run ./examples/cluster                  # nodes on :8081, :8082, :8083
//
// With Redis or NATS, each process is one node:
//
//	go run ./examples/cluster -addr :8081 -broker redis://127.0.0.1:6379
//	go run ./examples/cluster -addr :8082 -broker redis://127.0.0.1:6379
//	go run ./examples/cluster -addr :8083 -broker nats://127.0.0.1:4222   # a NATS cluster of its own
//
// The broker may also come from $FORGE_BROKER. A client connects to
// /ws/chat/{room}?user=NAME on any node and sends
//
//	{"event":"message","id":"1","payload":{"text":"hello"}}
//	{"event":"whisper","payload":{"to":"ws_...","text":"psst"}}
//
// GET /rooms/{room}/members lists the room's members on every node, and
// GET /node names the node that answers.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/forgekit/forge"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/examples/internal/brokerurl"
	"github.com/forgekit/forge/hub"
)

// SendMessage is what a client says to its room.
type SendMessage struct {
	Text string `json:"text" required:"true" minLength:"1" maxLength:"1000"`
}

// Sent acknowledges a message with the node that took it.
type Sent struct {
	Node string `json:"node"`
	Time string `json:"time" format:"date-time"`
}

// ChatMessage is what the room's other members receive.
type ChatMessage struct {
	User string `json:"user"`
	Text string `json:"text"`
	Node string `json:"node" description:"The node the sender is connected to."`
	Time string `json:"time" format:"date-time"`
}

// Whisper is a message to one connection, on whatever node it is.
type Whisper struct {
	To   string `json:"to" required:"true" description:"The connection id of the addressee, as listed by the members route."`
	Text string `json:"text" required:"true" minLength:"1" maxLength:"1000"`
}

// Whispered is what the addressee of a whisper receives.
type Whispered struct {
	From string `json:"from"`
	User string `json:"user"`
	Text string `json:"text"`
}

func main() {
	addr := flag.String("addr", "", "listen address of the node (one node); empty: three nodes on :8081-:8083 with an in-process broker")
	brokerURL := flag.String("broker", os.Getenv("FORGE_BROKER"), "redis://host:port or nats://host:port; empty: in-process (memory)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *brokerURL); err != nil {
		log.Fatal(err)
	}
}

// run serves the nodes until ctx ends, then shuts them down.
func run(ctx context.Context, addr, brokerURL string) error {
	var addrs []string
	var brokers []hub.Broker
	if brokerURL == "" || brokerURL == "memory" {
		addrs = []string{":8081", ":8082", ":8083"}
		if addr != "" {
			addrs = []string{addr}
		}
		bus := hub.NewMemoryBroker()
		defer bus.Close()
		for range addrs {
			brokers = append(brokers, bus.Connect())
		}
	} else {
		if addr == "" {
			addr = ":8080"
		}
		b, closeClient, err := brokerurl.Dial(brokerURL)
		if err != nil {
			return err
		}
		defer closeClient()
		addrs, brokers = []string{addr}, []hub.Broker{b}
	}

	errs := make(chan error, len(addrs))
	var apps []*forge.App
	for i, a := range addrs {
		defer brokers[i].Close() // after the hub
		app, h, err := newNode(brokers[i])
		if err != nil {
			return err
		}
		defer h.Close()
		l, err := net.Listen("tcp", a)
		if err != nil {
			return err
		}
		log.Printf("node %s serves http://%s", h.Node(), l.Addr())
		apps = append(apps, app)
		go func() { errs <- app.Serve(l) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, app := range apps {
		err = errors.Join(err, app.Shutdown(sctx))
	}
	return err
}

// newNode builds one node's app over broker b.
func newNode(b hub.Broker) (*forge.App, *hub.Hub, error) {
	// Each room keeps its last 100 messages in the broker (Redis Streams,
	// JetStream, or memory), so a client that reconnects to any node with
	// ?recover=room:epoch:offset misses nothing.
	rooms, err := hub.New(hub.WithBroker(b), hub.WithPresence("presence"), hub.WithHistory("*", 100, time.Hour))
	if err != nil {
		return nil, nil, err
	}
	node := rooms.Node()
	app := forge.New(forge.WithAppName("cluster chat"), forge.WithVersion("1.0.0"))
	r := app.Router()

	d := events.New(
		events.WithHub(rooms),
		events.WithMeta(func(c *events.Context) map[string]string { return map[string]string{"user": user(c)} }),
		events.WithOnConnect(func(c *events.Context) error { return c.Join(c.Route().Param("room")) }),
	)
	events.Emits[ChatMessage](d, "message", events.WithSummary("Someone in your room said something, on any node."))
	events.Emits[Whispered](d, "whisper", events.WithSummary("Someone wrote to you directly."))

	events.OnRequest(d, "message", func(c *events.Context, m SendMessage) (Sent, error) {
		now := time.Now().UTC().Format(time.RFC3339Nano)
		msg := ChatMessage{User: user(c), Text: m.Text, Node: node, Time: now}
		if err := c.Broadcast(c.Route().Param("room"), "message", msg, c.Conn().ID()); err != nil {
			// Local members have it; the broker is away.
			log.Printf("node %s: %v", node, err)
		}
		return Sent{Node: node, Time: now}, nil
	}, events.WithSummary("Say something to your room."))

	events.On(d, "whisper", func(c *events.Context, w Whisper) error {
		return d.EmitTo(w.To, "whisper", Whispered{From: c.Conn().ID(), User: user(c), Text: w.Text})
	}, events.WithSummary("Write to one member, on whatever node it is."))

	events.Route(r, "/ws/chat/:room", d, forge.WithSummary("Chat room, on every node"), forge.WithTags("chat"))

	r.GET("/rooms/:room/members", func(ctx forge.Context) error {
		members, err := rooms.Members(ctx.Context(), ctx.Param("room"))
		if err != nil {
			return err
		}
		out := make([]MemberView, 0, len(members))
		for _, m := range members {
			out = append(out, MemberView{ID: m.ID, User: m.Meta["user"], Node: m.Node})
		}
		slices.SortFunc(out, func(a, b MemberView) int { return strings.Compare(a.User+a.ID, b.User+b.ID) })
		return ctx.JSON(http.StatusOK, out)
	}, forge.WithSummary("List the members of a room on every node"), forge.WithTags("chat"))
	r.GET("/node", func(ctx forge.Context) error {
		return ctx.JSON(http.StatusOK, rooms.Status())
	}, forge.WithSummary("The node that answers, and its hub's counters"), forge.WithTags("cluster"))
	return app, rooms, nil
}

// MemberView is a member of a room as the members route lists it.
type MemberView struct {
	ID   string `json:"id"`
	User string `json:"user"`
	Node string `json:"node"`
}

// user is the connection's user name, from ?user=.
func user(c *events.Context) string {
	if u := c.Route().Query("user"); u != "" {
		return u
	}
	return "anonymous"
}
