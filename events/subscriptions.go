package events

import (
	"maps"
	"strings"
	"sync/atomic"
)

// Subscription is the payload of the built-in subscribe and unsubscribe
// events, which change the server events a connection receives at run
// time; "*" stands for every event.
type Subscription struct {
	Events []string `json:"events" required:"true" minItems:"1" maxItems:"64" items.minLength:"1" description:"Event names, or \"*\" for all."`
}

// subscriptions is the set of server events one connection receives: all
// of them but some, or only some. It is read by every broadcast (as a
// hub.Filter) and replaced as a whole on change.
type subscriptions struct {
	p atomic.Pointer[subSet]
}

// subSet is immutable once published.
type subSet struct {
	all   bool            // every event but those in names; otherwise only those in names
	names map[string]bool // nil when empty
}

var everything = &subSet{all: true}

// newSubscriptions parses the ?events= query parameter of a connection:
// names separated by commas, "*" for all; absent or empty means all.
func newSubscriptions(query string) *subscriptions {
	s := &subscriptions{}
	set := everything
	if strings.TrimSpace(query) != "" {
		set = &subSet{}
		for _, name := range strings.Split(query, ",") {
			set = set.with(true, strings.TrimSpace(name))
		}
	}
	s.p.Store(set)
	return s
}

// Accepts implements hub.Filter.
func (s *subscriptions) Accepts(event string) bool {
	set := s.p.Load()
	return set.all != set.names[event]
}

// update subscribes to (or unsubscribes from) events.
func (s *subscriptions) update(subscribe bool, events []string) {
	for {
		old := s.p.Load()
		set := old
		for _, e := range events {
			set = set.with(subscribe, strings.TrimSpace(e))
		}
		if s.p.CompareAndSwap(old, set) {
			return
		}
	}
}

// with returns the set after subscribing to (or unsubscribing from) one
// event name, or "*".
func (set *subSet) with(subscribe bool, name string) *subSet {
	switch {
	case name == "":
		return set
	case name == "*" && subscribe:
		return everything
	case name == "*":
		return &subSet{}
	}
	// In an all-but set, names are exclusions; otherwise inclusions.
	include := subscribe != set.all
	if set.names[name] == include {
		return set
	}
	next := &subSet{all: set.all, names: maps.Clone(set.names)}
	if include {
		if next.names == nil {
			next.names = make(map[string]bool)
		}
		next.names[name] = true
	} else {
		delete(next.names, name)
	}
	return next
}

// registerSubscriptions registers the built-in subscribe and unsubscribe
// events.
func (d *Dispatcher) registerSubscriptions() {
	On(d, "subscribe", func(c *Context, s Subscription) error {
		c.s.subs.update(true, s.Events)
		return nil
	}, WithSummary("Receive these server events too (the connection URL's ?events= sets the first list; * means all)."))
	On(d, "unsubscribe", func(c *Context, s Subscription) error {
		c.s.subs.update(false, s.Events)
		return nil
	}, WithSummary("Stop receiving these server events."))
}
