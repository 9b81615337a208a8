package forge

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/forgekit/forge/apidoc"
	"github.com/forgekit/forge/events"
	"github.com/forgekit/forge/router"
)

type benchItem struct {
	ID      string            `json:"id" format:"uuid"`
	Name    string            `json:"name" required:"true" minLength:"1"`
	Price   float64           `json:"price" minimum:"0"`
	Tags    []string          `json:"tags,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
	Created time.Time         `json:"created"`
	Parent  *benchItem        `json:"parent,omitempty"`
}

type benchGet struct {
	ID    string `path:"id"`
	Limit int    `query:"limit" minimum:"1" maximum:"100" default:"10"`
	Trace string `header:"X-Trace"`
}

type benchPost struct {
	ID string `path:"id"`
	benchItem
}

type benchEvent struct {
	Kind string    `json:"kind" enum:"a,b"`
	At   time.Time `json:"at"`
	Item benchItem `json:"item"`
}

// registerBench registers n typed REST routes and n/10 WebSocket routes.
func registerBench(r Router, n int) {
	for i := range n {
		p := fmt.Sprintf("/r%d/items/{id}", i)
		switch i % 4 {
		case 0:
			router.Get(r, p, func(Context, benchGet) (benchItem, error) { return benchItem{}, nil })
		case 1:
			router.Post(r, p, func(Context, benchPost) (benchItem, error) { return benchItem{}, nil }, router.WithStatus(201))
		case 2:
			router.Put(r, p, func(Context, benchPost) ([]benchItem, error) { return nil, nil })
		case 3:
			router.Delete(r, p, func(Context, benchGet) (struct{}, error) { return struct{}{}, nil })
		}
	}
	for i := range n / 10 {
		r.WebSocket(fmt.Sprintf("/ws%d/{room}", i), func(Context, Connection) error { return nil },
			router.WithMessages(
				apidoc.Message{Name: "item", Direction: apidoc.ClientToServer, Payload: &benchItem{}, Envelope: events.Envelope{},
					Reply: &apidoc.Message{Name: "ack", Direction: apidoc.ServerToClient, Payload: &benchEvent{}, Envelope: events.Envelope{}}},
				apidoc.Message{Name: "event", Direction: apidoc.ServerToClient, Payload: &benchEvent{}, Envelope: events.Envelope{}},
			))
	}
}

var discard = WithLogger(slog.New(slog.DiscardHandler))

// TestDocumentsCached: the documents are built once per route set, and
// rebuilt when a route is added.
func TestDocumentsCached(t *testing.T) {
	t.Parallel()
	a := New(discard)
	registerBench(a.Router(), 8)
	h := a.Handler()
	first, err := a.documents()
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), first.openapiJSON) {
			t.Fatalf("GET /openapi.json: %d", rec.Code)
		}
	}
	if again, _ := a.documents(); again != first {
		t.Fatal("documents rebuilt although no route changed")
	}
	a.Router().GET("/new", func(Context) error { return nil })
	rebuilt, err := a.documents()
	if err != nil {
		t.Fatal(err)
	}
	if rebuilt == first || !bytes.Contains(rebuilt.openapiJSON, []byte(`"/new"`)) {
		t.Fatal("documents not rebuilt after a new route")
	}
}

// BenchmarkTypedRoutesAndDocuments registers 1,000 typed REST routes and
// 100 WebSocket routes with event messages, and builds both documents.
func BenchmarkTypedRoutesAndDocuments(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		a := New(discard)
		registerBench(a.Router(), 1000)
		if _, err := a.documents(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeDocument serves the cached OpenAPI document: a route
// count and a copy of the bytes, no reflection.
func BenchmarkServeDocument(b *testing.B) {
	a := New(discard)
	registerBench(a.Router(), 100)
	h := a.Handler()
	req := httptest.NewRequest(http.MethodGet, "/openapi.json", nil)
	h.ServeHTTP(httptest.NewRecorder(), req) // builds the documents
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

// distinctType returns a new struct type: n tells its fields apart, so
// that no two calls share reflection work.
func distinctType(n int, tag string) reflect.Type {
	fields := []reflect.StructField{
		{Name: "Name", Type: reflect.TypeFor[string](), Tag: reflect.StructTag(fmt.Sprintf(`json:"name%d" minLength:"1"`, n))},
		{Name: "Count", Type: reflect.TypeFor[int](), Tag: reflect.StructTag(fmt.Sprintf(`json:"count%d" minimum:"0"`, n))},
		{Name: "At", Type: reflect.TypeFor[time.Time](), Tag: reflect.StructTag(fmt.Sprintf(`json:"at%d"`, n))},
		{Name: "Items", Type: reflect.TypeFor[[]benchItem](), Tag: reflect.StructTag(fmt.Sprintf(`json:"items%d"`, n))},
	}
	if tag != "" {
		fields = append(fields, reflect.StructField{Name: "Q", Type: reflect.TypeFor[string](),
			Tag: reflect.StructTag(fmt.Sprintf(`%s:"q%d"`, tag, n))})
	}
	return reflect.StructOf(fields)
}

// BenchmarkDistinctTypesDocuments registers 1,000 REST routes whose request
// and response types all differ (made with reflect.StructOf and declared
// with WithRequest and WithResponse), and builds both documents: the cost
// when no two routes share reflection work.
func BenchmarkDistinctTypesDocuments(b *testing.B) {
	reqs, resps := make([]any, 1000), make([]any, 1000)
	for i := range reqs {
		reqs[i] = reflect.New(distinctType(i, "query")).Interface()
		resps[i] = reflect.New(distinctType(i+1000, "")).Interface()
	}
	b.ReportAllocs()
	for b.Loop() {
		a := New(discard)
		r := a.Router()
		for i := range reqs {
			r.POST(fmt.Sprintf("/r%d", i), func(Context) error { return nil },
				router.WithRequest(reqs[i]), router.WithResponse(200, resps[i], "OK"))
		}
		if _, err := a.documents(); err != nil {
			b.Fatal(err)
		}
	}
}
