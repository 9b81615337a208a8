package redisbroker_test

import (
	"context"
	"log"

	"github.com/redis/go-redis/v9"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/hub/redisbroker"
)

// Two nodes share rooms through one Redis: each has its own client,
// Broker and hub, and a broadcast on one reaches the room's members on
// both. (Not run: it needs a Redis at localhost:6379. The package's tests
// run the same setup against a real server.)
func Example() {
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer client.Close()
	broker := redisbroker.New(client, redisbroker.WithPrefix("chat:"))
	defer broker.Close()
	h, err := hub.New(hub.WithBroker(broker))
	if err != nil {
		log.Fatal(err) // Redis did not confirm the hub's subscription in time
	}
	defer h.Close()

	// Register connections and Join rooms as without a broker; then a
	// broadcast reaches the members of "lobby" on every node.
	if err := h.Broadcast(context.Background(), "lobby", hub.Message{Data: []byte(`{"event":"hello"}`)}); err != nil {
		log.Printf("other nodes missed it: %v", err) // local members got it
	}
	members, err := h.Members(context.Background(), "lobby") // on every node
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("%d members", len(members))
}
