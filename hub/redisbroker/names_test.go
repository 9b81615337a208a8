package redisbroker

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/forgekit/forge/internal/redistest"
)

// awkward are topic names that a channel-name scheme could mix up:
// pattern characters, separators, hash tags, bytes that are not UTF-8.
var awkward = []string{
	"", "a", "A", "a.b", "a b", "*", "?", "[ab]", ">", "a.*", "a.>", "a:b",
	"{x}", "{", "}", "}{", "{}", "ünï/cödé", "\x00\xff", "\r\n", "pubsub", "{pubsub}", ":",
}

// TestChannelNames: every topic gets a channel of its own, which holds
// the topic unchanged after a fixed prefix, and is never the anchor; every
// room gets history keys of its own.
func TestChannelNames(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"forge:", "app.", "x"} {
		b := &Broker{}
		b.setNames(prefix)
		seen := map[string]string{b.anchor: "the anchor"}
		for _, topic := range awkward {
			ch := b.channel(topic)
			if rest, ok := strings.CutPrefix(ch, prefix+"{pubsub}:"); !ok || rest != topic {
				t.Errorf("prefix %q: channel(%q) = %q", prefix, topic, ch)
			}
			if other, dup := seen[ch]; dup {
				t.Errorf("prefix %q: topics %q and %q share channel %q", prefix, topic, other, ch)
			}
			seen[ch] = topic
		}
		keys := map[string]string{}
		for _, room := range awkward {
			meta, stream := b.historyKeys(room)
			for _, k := range []string{meta, stream} {
				if other, dup := keys[k]; dup {
					t.Errorf("prefix %q: rooms %q and %q share history key %q", prefix, room, other, k)
				}
				keys[k] = room
			}
		}
	}
}

// TestClusterSlots: on a cluster, every channel of a Broker hashes to the
// anchor's slot, whatever braces its topic holds, and so do all node
// keys, which MGET reads together; a room's two history keys, which its
// scripts use together, share a slot. Asked of the server itself.
func TestClusterSlots(t *testing.T) {
	t.Parallel()
	srv := redistest.StartCluster(t)
	b := &Broker{}
	b.setNames("forge:")
	slot := func(key string) string {
		t.Helper()
		s, err := srv.Do("CLUSTER", "KEYSLOT", key)
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT %q: %v", key, err)
		}
		return s
	}
	anchor := slot(b.anchor)
	for _, topic := range awkward {
		if got := slot(b.channel(topic)); got != anchor {
			t.Errorf("the channel of %q is in slot %s, the anchor in %s", topic, got, anchor)
		}
	}
	nodes := slot(b.nodePrefix + "n1")
	for _, node := range awkward {
		if got := slot(b.nodePrefix + node); got != nodes {
			t.Errorf("node key of %q is in slot %s, want %s", node, got, nodes)
		}
	}
	for _, room := range awkward {
		if meta, stream := b.historyKeys(room); slot(meta) != slot(stream) {
			t.Errorf("the history keys of %q are in slots %s and %s", room, slot(meta), slot(stream))
		}
	}
	// And MGET of node keys works on the cluster.
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{srv.Addr()}})
	t.Cleanup(func() { _ = client.Close() })
	keys := make([]string, 0, len(awkward))
	for _, node := range awkward {
		keys = append(keys, b.nodePrefix+node)
	}
	if _, err := client.MGet(ctxT(t), keys...).Result(); err != nil {
		t.Fatalf("MGET of node keys: %v", err)
	}
}
