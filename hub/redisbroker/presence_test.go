package redisbroker

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/redistest"
	"github.com/forgekit/forge/internal/testkit"
)

// TestMembersDropsDeadNodes: Members deletes the entries of a node whose
// key expired, and keeps those of live nodes.
func TestMembersDropsDeadNodes(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	b := newNode(t, srv.Addr(), false, WithPresenceTTL(100*time.Millisecond))
	t.Cleanup(func() { _ = b.Close() })
	ctx := ctxT(t)
	for _, node := range []string{"live", "dead"} {
		if _, _, err := b.KeepAlive(ctx, node); err != nil {
			t.Fatal(err)
		}
	}
	err := b.UpdatePresence(ctx, []hub.PresenceChange{
		{Room: "r", Member: hub.Member{Node: "live", ID: "a", Meta: map[string]string{"user": "ann"}}, Present: true},
		{Room: "r", Member: hub.Member{Node: "dead", ID: "b"}, Present: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the dead node's member to go", func() bool {
		if _, _, err := b.KeepAlive(ctx, "live"); err != nil {
			t.Fatal(err)
		}
		got, err := b.Members(ctx, "r")
		return err == nil && len(got) == 1 && got[0].ID == "a" && got[0].Meta["user"] == "ann"
	})
	if n, err := srv.Do("HLEN", b.roomPrefix+"r"); err != nil || n != "1" {
		t.Fatalf("HLEN after Members = %q, %v; want the dead entry deleted", n, err)
	}
}

// TestDropDeadKeepsRewrittenEntries: the cleanup deletes an entry only if
// it still holds what Members read, so a node that came back and wrote its
// memberships again keeps them.
func TestDropDeadKeepsRewrittenEntries(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	ctx := ctxT(t)
	key := "forge:members:r"
	if err := client.HSet(ctx, key, "old", `{"w":"1"}`, "rewritten", `{"w":"3"}`).Err(); err != nil {
		t.Fatal(err)
	}
	// Members read w=1 for both; "rewritten" was written again since.
	n, err := dropDead.Run(ctx, client, []string{key}, "old", `{"w":"1"}`, "rewritten", `{"w":"2"}`).Int()
	if err != nil || n != 1 {
		t.Fatalf("dropDead = %d, %v; want 1 deleted", n, err)
	}
	if got, err := client.HKeys(ctx, key).Result(); err != nil || len(got) != 1 || got[0] != "rewritten" {
		t.Fatalf("fields left: %q, %v; want [rewritten]", got, err)
	}
}
