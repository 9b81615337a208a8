module github.com/forgekit/forge

go 1.25

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/gorilla/websocket v1.5.3
	go.uber.org/goleak v1.3.0
)
