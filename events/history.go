package events

import (
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/forgekit/forge/hub"
)

// With a hub that keeps history (hub.WithHistory), a connection can pick
// up where a lost one left off. The client gives the last position it saw
// in each room in the handshake, as query parameters
//
//	?recover=lobby:EPOCH:OFFSET&recover=other:EPOCH:OFFSET
//
// (the room is everything before the last two colons). The first time the
// connection joins such a room (Context.Join, from WithOnConnect or a
// handler), it is sent the messages it missed, then the live ones, and a
// "recovery" event says whether that worked; when it did not, the client
// must fetch the room's state anew. Messages of rooms with history carry
// their "position" in the envelope. The "position" request asks where a
// room the connection is in stands, to detect a gap without reconnecting.

// Recovery is the payload of the "recovery" event, which follows the
// replay of a room's missed messages.
type Recovery struct {
	Room string `json:"room" required:"true"`
	// Recovered is false when the history could not continue from the
	// position given: the client must fetch the room's state anew.
	Recovered bool `json:"recovered" required:"true" description:"False when the history cannot continue from the position given: fetch the room's state anew."`
	Replayed  int  `json:"replayed" required:"true" description:"How many missed messages were sent before this event."`
	// Position is the last message the connection was sent in the room.
	Position hub.StreamPosition `json:"position" required:"true"`
}

// PositionRequest asks where a room stands.
type PositionRequest struct {
	Room string `json:"room" required:"true" minLength:"1"`
}

// RoomPosition answers a PositionRequest.
type RoomPosition struct {
	Room     string             `json:"room" required:"true"`
	Position hub.StreamPosition `json:"position" required:"true"`
}

// maxRecover bounds the positions one handshake may carry.
const maxRecover = 64

// parseRecover reads the recover query parameters. Malformed entries are
// ignored: the client then simply joins without recovery.
func parseRecover(values []string) map[string]hub.StreamPosition {
	var out map[string]hub.StreamPosition
	for _, v := range values {
		if len(out) == maxRecover {
			break
		}
		i := strings.LastIndexByte(v, ':')
		if i <= 0 {
			continue
		}
		off, err := strconv.ParseUint(v[i+1:], 10, 64)
		if err != nil {
			continue
		}
		j := strings.LastIndexByte(v[:i], ':')
		if j <= 0 || j+1 == i {
			continue
		}
		if out == nil {
			out = make(map[string]hub.StreamPosition)
		}
		out[v[:j]] = hub.StreamPosition{Epoch: v[j+1 : i], Offset: off}
	}
	return out
}

// registerHistory declares the events of recovery.
func (d *Dispatcher) registerHistory() {
	OnRequest(d, "position", func(c *Context, req PositionRequest) (RoomPosition, error) {
		h := c.s.d.cfg.hub
		if !inRoom(c, req.Room) {
			return RoomPosition{}, NewError(CodeNotInRoom, "join the room first")
		}
		pos, err := h.Position(c.ctx, req.Room)
		if errors.Is(err, hub.ErrNoHistory) {
			return RoomPosition{}, NewError(CodeNoHistory, "the room keeps no history")
		}
		if err != nil {
			return RoomPosition{}, err
		}
		return RoomPosition{Room: req.Room, Position: pos}, nil
	}, WithSummary("Ask where a room you are in stands: its history's epoch and last offset."))
	d.declare("New", "recovery", reflect.TypeFor[Recovery](), nil, settings{
		summary: "Sent after the missed messages of a room given in ?recover=: whether nothing was lost.",
	})
}

func inRoom(c *Context, room string) bool {
	for _, r := range c.Rooms() {
		if r == room {
			return true
		}
	}
	return false
}

// joinFrom joins room, recovering it when the handshake gave a position
// for it, and tells the client how that went.
func (c *Context) joinFrom(h *hub.Hub, room string) (bool, error) {
	s := c.s
	s.mu.Lock()
	pos, ok := s.recover[room]
	if ok {
		delete(s.recover, room) // once per connection
	}
	s.mu.Unlock()
	if !ok || !h.HasHistory(room) {
		return false, nil
	}
	rec, err := h.JoinFrom(c.ctx, c.s.conn.ID(), room, pos)
	if err != nil {
		return true, err
	}
	data, err := s.d.encode("recovery", "", c.channel, Recovery{Room: room, Recovered: rec.Recovered, Replayed: rec.Replayed, Position: rec.Position})
	if err != nil {
		return true, err
	}
	s.conn.Write(data) // fails only once the connection is gone
	return true, nil
}
