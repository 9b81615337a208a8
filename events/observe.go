package events

import (
	"time"

	"github.com/forgekit/forge/connection"
)

// HandlerObserver is implemented by a connection's observer
// (connection.ObserverOf) that also wants to know about event handlers,
// as package metrics does: Handled is called after each handler returns,
// with the event's declared name ("" for an OnAny handler), the time the
// handler took and its error (nil on success). Without such an observer
// the dispatcher reads no clock.
type HandlerObserver interface {
	Handled(event string, took time.Duration, err error)
}

// handlerObserver returns conn's HandlerObserver, or nil.
func handlerObserver(conn connection.Connection) HandlerObserver {
	o, _ := connection.ObserverOf(conn).(HandlerObserver)
	return o
}
