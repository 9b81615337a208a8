// Command natsd runs a NATS server with JetStream on a loopback address
// until SIGINT or SIGTERM, for scripts/bench-cluster.sh: hub/natsbroker
// needs JetStream (for presence), and Debian packages no nats-server. It
// embeds the server forge's tests embed (hub/natsbroker/natstest), with the
// same settings.
//
//	go build -o /tmp/natsd ./examples/bench/natsd
//	/tmp/natsd -addr 127.0.0.1:4222
package main

import (
	"errors"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4222", "listen address (loopback only)")
	flag.Parse()
	if err := run(*addr); err != nil {
		log.Fatal(err)
	}
}

func run(addr string) error {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return &net.AddrError{Err: "not a loopback address", Addr: addr}
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return err
	}
	store, err := os.MkdirTemp("", "natsd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(store)
	srv, err := server.NewServer(&server.Options{
		Host:               host,
		Port:               port,
		NoLog:              true,
		NoSigs:             true,
		JetStream:          true,
		StoreDir:           store,
		JetStreamMaxMemory: 256 << 20,
		JetStreamMaxStore:  256 << 20,
	})
	if err != nil {
		return err
	}
	srv.Start()
	defer srv.WaitForShutdown()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(10 * time.Second) {
		return errors.New("natsd: the server did not accept connections within 10 s")
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}
