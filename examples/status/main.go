// Command status streams a service's status to WebSocket clients with
// Connection.PeriodicWrite: the status is sent at once and then checked
// every interval, and sent again only when it changed. "Changed" is the
// status's version, not the whole value, which carries the time of the
// check and so differs every time: a comparator says so.
//
//	go run ./examples/status          # listens on :8080 (or $PORT)
//	websocat ws://localhost:8080/ws/status
//	curl -X POST localhost:8080/jobs  # a new job: the status changes
package main

import (
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/forgekit/forge"
)

// Status is what clients receive.
type Status struct {
	Version int       `json:"version" description:"Goes up with every change."`
	Jobs    int       `json:"jobs"`
	Healthy bool      `json:"healthy"`
	Checked time.Time `json:"checked" description:"When the status was read."`
}

// service is the status source.
type service struct {
	mu      sync.Mutex // guards the fields below
	version int
	jobs    int
}

func (s *service) status() *Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &Status{Version: s.version, Jobs: s.jobs, Healthy: true, Checked: time.Now().UTC()}
}

func (s *service) addJob() *Status {
	s.mu.Lock()
	s.version++
	s.jobs++
	s.mu.Unlock()
	return s.status()
}

func main() {
	if err := newApp(2 * time.Second).Run(); err != nil {
		log.Fatal(err)
	}
}

func newApp(every time.Duration) *forge.App {
	app := forge.New(forge.WithAppName("status"), forge.WithVersion("1.0.0"))
	r := app.Router()
	svc := &service{version: 1}
	r.WebSocket("/ws/status", func(ctx forge.Context, conn forge.Connection) error {
		return conn.PeriodicWrite(every,
			func() (any, error) { return svc.status(), nil },
			func(last, current any) bool { return last.(*Status).Version == current.(*Status).Version })
	}, forge.WithSummary("Live service status"), forge.WithTags("status"),
		forge.WithWebSocketMessages(nil, &Status{}))
	r.GET("/status", func(ctx forge.Context) error {
		return ctx.JSON(http.StatusOK, svc.status())
	}, forge.WithSummary("The service status now"), forge.WithTags("status"))
	r.POST("/jobs", func(ctx forge.Context) error {
		return ctx.JSON(http.StatusCreated, svc.addJob())
	}, forge.WithSummary("Start a job (the status changes)"), forge.WithTags("status"))
	return app
}
