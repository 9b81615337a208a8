package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/forgekit/forge/connection"
	"github.com/forgekit/forge/hub"
	"github.com/forgekit/forge/internal/problem"
)

// Endpoint is one of the inspector's HTTP endpoints, at Path under the
// inspector's mount path. The application registers each on its router,
// behind the inspector's auth.
type Endpoint struct {
	Method  string
	Path    string // "/", "/api/connections", "/api/connections/{id}/close", ...
	Handler http.HandlerFunc
}

// Endpoints lists the inspector's pages and its JSON API:
//
//	GET  /                               the page (HTML, with its script and style embedded)
//	GET  /assets/{file}                  the page's script and style
//	GET  /api/status                     Status
//	GET  /api/connections                []Connection (?route=PATTERN to filter, ?limit=N for the first N)
//	GET  /api/rooms                      []Room (?limit=N for the first N)
//	GET  /api/routes                     []RouteStats
//	POST /api/connections/{id}/close     {"code": 4000, "reason": "..."}: close with that code
//	POST /api/connections/{id}/send      {"event": "...", "payload": ...} or {"data": "..."}: send a message
//	POST /api/rooms/evict                {"hub": "node", "room": "...", "id": "..."}: remove a member from a room
//	GET  /api/tap?conn=ID or ?room=NAME  the live traffic, one Frame per line (application/x-ndjson)
//
// The actions take JSON only and refuse a request from another origin, so
// that a page elsewhere cannot drive them with the browser's credentials.
func (in *Inspector) Endpoints() []Endpoint {
	return []Endpoint{
		{http.MethodGet, "/", in.servePage},
		{http.MethodGet, "/assets/{file}", serveAsset},
		{http.MethodGet, "/api/status", in.serveStatus},
		{http.MethodGet, "/api/connections", in.serveConnections},
		{http.MethodGet, "/api/rooms", in.serveRooms},
		{http.MethodGet, "/api/routes", in.serveRoutes},
		{http.MethodPost, "/api/connections/{id}/close", in.serveClose},
		{http.MethodPost, "/api/connections/{id}/send", in.serveSend},
		{http.MethodPost, "/api/rooms/evict", in.serveEvict},
		{http.MethodGet, "/api/tap", in.serveTap},
	}
}

// Connections returns the open connections, as App.Connections does.
func (in *Inspector) Connections() []Connection { return Connections(in.cfg.Tracker, in.hubs()) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (in *Inspector) serveStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, in.Status())
}

// limit reads ?limit=, the number of items a listing is cut to; 0 for all.
// The total goes into the X-Total-Count header.
func limit(w http.ResponseWriter, r *http.Request, total int) (int, bool) {
	n := total
	if s := r.URL.Query().Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			problem.Write(w, http.StatusBadRequest, "limit must be a whole number")
			return 0, false
		}
		if v > 0 {
			n = min(v, total)
		}
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	return n, true
}

func (in *Inspector) serveConnections(w http.ResponseWriter, r *http.Request) {
	conns := in.Connections()
	if route := r.URL.Query().Get("route"); route != "" {
		conns = slices.DeleteFunc(conns, func(c Connection) bool { return c.Route != route })
	}
	if n, ok := limit(w, r, len(conns)); ok {
		writeJSON(w, http.StatusOK, conns[:n])
	}
}

func (in *Inspector) serveRooms(w http.ResponseWriter, r *http.Request) {
	n := 0
	if s := r.URL.Query().Get("limit"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	rooms, total := in.rooms(r.Context(), n)
	if _, ok := limit(w, r, total); ok {
		writeJSON(w, http.StatusOK, rooms)
	}
}

func (in *Inspector) serveRoutes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, in.Routes())
}

// action checks an action's request and decodes its JSON body into v. It
// answers a refusal itself and reports false.
func action(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		problem.Write(w, http.StatusUnsupportedMediaType, "actions take a JSON body (Content-Type: application/json)")
		return false
	}
	if !sameOrigin(r) {
		problem.Write(w, http.StatusForbidden, "actions are refused to pages of another origin")
		return false
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		problem.Write(w, http.StatusBadRequest, "the body is not the JSON this action takes: "+err.Error())
		return false
	}
	return true
}

// sameOrigin reports whether a request comes from the inspector's own
// origin, or from no browser page at all.
func sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// conn returns the open connection id.
func (in *Inspector) conn(id string) *connection.Conn {
	for _, c := range in.cfg.Tracker.Conns() {
		if c.ID() == id {
			return c
		}
	}
	return nil
}

// closeRequest is the body of a close action.
type closeRequest struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// closable reports whether an application may close with code: 1000,
// 1001, 1008, 1011, 1013, or a code of 3000 to 4999.
func closable(code int) bool {
	switch code {
	case 1000, 1001, 1008, 1011, 1013:
		return true
	}
	return code >= 3000 && code <= 4999
}

func (in *Inspector) serveClose(w http.ResponseWriter, r *http.Request) {
	req := closeRequest{Code: int(connection.CloseNormal)}
	if !action(w, r, &req) {
		return
	}
	if !closable(req.Code) {
		problem.Write(w, http.StatusUnprocessableEntity,
			fmt.Sprintf("close code %d cannot be sent: use 1000, 1001, 1008, 1011, 1013 or 3000 to 4999", req.Code))
		return
	}
	if len(req.Reason) > 123 {
		problem.Write(w, http.StatusUnprocessableEntity, "the reason is longer than 123 bytes")
		return
	}
	c := in.conn(r.PathValue("id"))
	if c == nil {
		problem.Write(w, http.StatusNotFound, "no open connection "+r.PathValue("id"))
		return
	}
	_ = c.CloseWith(connection.StatusCode(req.Code), req.Reason)
	writeJSON(w, http.StatusAccepted, map[string]any{"id": c.ID(), "code": req.Code})
}

// sendRequest is the body of a send action: an event in forge's envelope,
// or a message's text as is.
type sendRequest struct {
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
	Data    *string         `json:"data"`
}

func (in *Inspector) serveSend(w http.ResponseWriter, r *http.Request) {
	var req sendRequest
	if !action(w, r, &req) {
		return
	}
	var data []byte
	switch {
	case req.Data != nil && req.Event == "":
		data = []byte(*req.Data)
	case req.Data == nil && req.Event != "":
		payload := req.Payload
		if len(payload) == 0 {
			payload = json.RawMessage("{}")
		}
		data, _ = json.Marshal(struct {
			Event   string          `json:"event"`
			Payload json.RawMessage `json:"payload"`
		}{req.Event, payload})
	default:
		problem.Write(w, http.StatusUnprocessableEntity, `give either "event" (with "payload") or "data"`)
		return
	}
	c := in.conn(r.PathValue("id"))
	if c == nil {
		problem.Write(w, http.StatusNotFound, "no open connection "+r.PathValue("id"))
		return
	}
	if err := c.WriteMessage(r.Context(), connection.TextMessage, data); err != nil {
		problem.Write(w, http.StatusConflict, "not sent: "+err.Error())
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": c.ID(), "bytes": len(data)})
}

// evictRequest is the body of an evict action.
type evictRequest struct {
	Hub  string `json:"hub"` // node id; may be left out with one hub
	Room string `json:"room"`
	ID   string `json:"id"`
}

func (in *Inspector) serveEvict(w http.ResponseWriter, r *http.Request) {
	var req evictRequest
	if !action(w, r, &req) {
		return
	}
	var target *hub.Hub
	hubs := in.hubs()
	for _, h := range hubs {
		if h.Node() == req.Hub || req.Hub == "" && len(hubs) == 1 {
			target = h
		}
	}
	if target == nil {
		problem.Write(w, http.StatusNotFound, fmt.Sprintf("no inspected hub %q", req.Hub))
		return
	}
	m, ok := target.Connection(req.ID)
	if !ok || !containsRoom(m.Rooms, req.Room) {
		problem.Write(w, http.StatusNotFound, fmt.Sprintf("connection %s is not in room %q", req.ID, req.Room))
		return
	}
	if err := target.Leave(r.Context(), req.ID, req.Room); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, hub.ErrUnknownConnection) {
			status = http.StatusNotFound
		}
		problem.Write(w, status, err.Error())
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"id": req.ID, "room": req.Room})
}

func containsRoom(rooms []string, room string) bool {
	for _, r := range rooms {
		if r == room {
			return true
		}
	}
	return false
}

// serveTap streams a connection's or a room's traffic until the watcher
// leaves (or the connection ends). The tap is on only while someone
// streams it.
func (in *Inspector) serveTap(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, room := q.Get("conn"), q.Get("room")
	if (id == "") == (room == "") {
		problem.Write(w, http.StatusBadRequest, "name one connection (?conn=ID) or one room (?room=NAME)")
		return
	}
	wt := newWatcher()
	unwatch, ok := in.watch(wt)
	if !ok {
		problem.Write(w, http.StatusServiceUnavailable, "the server is shutting down")
		return
	}
	defer unwatch()
	if id != "" {
		stop, ok := in.tapConn(id, wt)
		if !ok {
			problem.Write(w, http.StatusNotFound, "no open connection "+id)
			return
		}
		defer stop()
	} else {
		defer in.tapRoom(room, wt)()
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	write := func(f Frame) bool {
		if f.Time.IsZero() {
			f.Time = time.Now()
		}
		f.render()
		return enc.Encode(f) == nil
	}
	if enc.Encode(Frame{Dir: "start", Conn: id, Room: room}) != nil || rc.Flush() != nil {
		return
	}
	for {
		select {
		case f := <-wt.ch:
			if !write(f) {
				return
			}
			for more := true; more; { // what else is waiting goes in the same flush
				select {
				case f := <-wt.ch:
					if !write(f) {
						return
					}
				default:
					more = false
				}
			}
		case <-wt.done:
			for len(wt.ch) > 0 {
				write(<-wt.ch)
			}
			_ = rc.Flush()
			return
		case <-r.Context().Done():
			return
		}
		if n := wt.skipped.Swap(0); n > 0 {
			write(Frame{Dir: "skipped", Skipped: n})
		}
		if rc.Flush() != nil {
			return
		}
	}
}
