package hub

import (
	"cmp"
	"maps"
	"slices"

	"github.com/forgekit/forge/auth"
)

// Status is a snapshot of a hub: what it holds now and what it has done
// since it was created. The counters count on this node.
type Status struct {
	Node        string `json:"node"`
	Connections int    `json:"connections"`
	Rooms       int    `json:"rooms"`
	// Published counts the messages handed to Broadcast, BroadcastAll and
	// Send (presence messages included).
	Published uint64 `json:"published"`
	// Delivered counts the messages queued for a member (one per member);
	// Dropped those a member's connection refused (connection.Conn.Offer
	// reported false): its queue was full and its slow-consumer policy
	// dropped the message or closed the connection, or the connection was
	// closing. Each of those is also counted by the connection tracker
	// (App.Stats): in Stats().Dropped when the queue was full, in
	// Stats().Discarded when the connection was closing. The tracker
	// counts besides the messages lost later from a queue they had joined
	// (PolicyDropOldest, a connection that failed), which Delivered
	// counts here. Filtered counts the messages a member's filter
	// declined.
	Delivered uint64 `json:"delivered"`
	Dropped   uint64 `json:"dropped"`
	Filtered  uint64 `json:"filtered"`
	// Remote counts the messages received from other nodes; BrokerErrors
	// the broker calls that failed and the broker messages that could not
	// be read; BrokerDropped the messages for other nodes that were lost
	// because the broker did not take them (during an outage, for
	// instance). Local members still received those.
	Remote        uint64 `json:"remote"`
	BrokerErrors  uint64 `json:"broker_errors"`
	BrokerDropped uint64 `json:"broker_dropped"`
	// RefusedJoins counts the joins refused by WithMaxRooms.
	RefusedJoins uint64 `json:"refused_joins"`
	// BrokerDown reports an outage in progress: the last broker call
	// failed.
	BrokerDown bool `json:"broker_down"`
}

// Status returns a snapshot of the hub.
func (h *Hub) Status() Status {
	h.mu.RLock()
	conns, rooms := len(h.members), len(h.rooms)
	h.mu.RUnlock()
	return Status{
		Node:          h.node,
		Connections:   conns,
		Rooms:         rooms,
		Published:     h.published.Load(),
		Delivered:     h.delivered.Load(),
		Dropped:       h.dropped.Load(),
		Filtered:      h.filtered.Load(),
		Remote:        h.remote.Load(),
		BrokerErrors:  h.brokerErr.Load(),
		BrokerDropped: h.brokerDropped.Load(),
		BrokerDown:    h.outage.down.Load(),
		RefusedJoins:  h.refusedJoins.Load(),
	}
}

// MemberInfo describes a connection registered with the hub.
type MemberInfo struct {
	ID          string `json:"id"`
	RemoteAddr  string `json:"remote_addr"`
	Subprotocol string `json:"subprotocol,omitempty"`
	// Principal is who the connection is: the subject of the principal
	// that authenticated its handshake (auth.PrincipalFrom on its context),
	// as refreshed in-band since; "" on a route without authentication.
	Principal string            `json:"principal,omitempty"`
	Meta      map[string]string `json:"meta,omitempty"`
	Rooms     []string          `json:"rooms"` // sorted
}

// RoomInfo describes a room with members on this node.
type RoomInfo struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
}

// Connections lists the connections registered on this node, by id.
func (h *Hub) Connections() []MemberInfo {
	h.mu.RLock()
	out := make([]MemberInfo, 0, len(h.members))
	for _, m := range h.members {
		out = append(out, m.info())
	}
	h.mu.RUnlock()
	slices.SortFunc(out, func(a, b MemberInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// ConnectionsIn lists the members of room on this node, by id.
func (h *Hub) ConnectionsIn(room string) []MemberInfo {
	h.mu.RLock()
	r := h.rooms[room]
	var out []MemberInfo
	if r != nil {
		r.mu.Lock()
		out = make([]MemberInfo, 0, len(r.members))
		for _, m := range r.members {
			out = append(out, m.info())
		}
		r.mu.Unlock()
	}
	h.mu.RUnlock()
	slices.SortFunc(out, func(a, b MemberInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Connection describes the connection id, if it is registered on this
// node.
func (h *Hub) Connection(id string) (MemberInfo, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	m := h.members[id]
	if m == nil {
		return MemberInfo{}, false
	}
	return m.info(), true
}

// Rooms lists the rooms with members on this node, by name.
func (h *Hub) Rooms() []RoomInfo {
	h.mu.RLock()
	out := make([]RoomInfo, 0, len(h.rooms))
	for name, r := range h.rooms {
		r.mu.Lock()
		out = append(out, RoomInfo{Name: name, Members: len(r.members)})
		r.mu.Unlock()
	}
	h.mu.RUnlock()
	slices.SortFunc(out, func(a, b RoomInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Count returns the number of members of room on this node.
func (h *Hub) Count(room string) int {
	h.mu.RLock()
	r := h.rooms[room]
	h.mu.RUnlock()
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members)
}

// info describes m. Caller holds Hub.mu.
func (m *member) info() MemberInfo {
	return MemberInfo{
		ID:          m.id,
		RemoteAddr:  m.conn.RemoteAddr(),
		Subprotocol: m.conn.Subprotocol(),
		Principal:   m.principal(),
		Meta:        maps.Clone(m.meta),
		Rooms:       slices.Sorted(maps.Keys(m.rooms)),
	}
}

// principal is the subject of the principal authenticated on m's
// connection, or "".
func (m *member) principal() string {
	if p, ok := auth.PrincipalFrom(m.conn.Context()); ok {
		return p.Subject
	}
	return ""
}
