package problem

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
)

// Listener returns l with connections on which the refusals net/http
// writes by itself, before any handler runs, come as problem details like
// every other refusal of forge: 431 for request headers over the server's
// MaxHeaderBytes, 400 for a request it cannot parse, 505, 501 and the
// like. net/http writes them as plain text, in one write of a fixed form,
// which the connections recognise and replace; every other write passes
// as it is.
//
// The connections also note whether a read timed out before the first
// request's headers had arrived, which TimedOut reports: before them, the
// only read deadline net/http sets is its header timeout, so a server
// learns from it, when a connection closes, that it was cut off for
// sending them too slowly (a slowloris). Later timeouts (an idle
// keep-alive connection's, net/http's own aborted background reads) are
// not noted.
func Listener(l net.Listener) net.Listener { return listener{l} }

// TimedOut reports whether a read on c, a connection from Listener, timed
// out before the first request's headers had arrived.
func TimedOut(c net.Conn) bool {
	pc, ok := c.(*conn)
	return ok && pc.timedOut.Load()
}

// Unwrap returns the connection under c when c is a connection from
// Listener, and c otherwise. Once net/http has handed a connection over
// (a hijack), it writes no refusal of its own on it and sets no header
// timeout: its new owner may drop the wrapper, and with it a check of
// every write.
func Unwrap(c net.Conn) net.Conn {
	if pc, ok := c.(*conn); ok {
		return pc.Conn
	}
	return c
}

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c}, nil
}

// conn rewrites net/http's own error responses. It keeps what the
// connection underneath offers that forge and net/http use: the raw
// socket (syscall.Conn) and half-closing (CloseWrite).
type conn struct {
	net.Conn
	timedOut atomic.Bool

	// Read's scan for the blank line that ends the first request's
	// headers; net/http reads from one goroutine until then.
	headDone bool
	lf       bool // the last byte but CRs was a LF
}

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.headDone {
		c.scanHead(p[:n])
		if err != nil && !c.headDone && errors.Is(err, os.ErrDeadlineExceeded) {
			c.timedOut.Store(true)
		}
	}
	return n, err
}

// scanHead looks for the empty line (CRLF CRLF, or bare LFs, which
// net/http accepts too) that ends a request's headers.
func (c *conn) scanHead(p []byte) {
	for _, b := range p {
		switch b {
		case '\n':
			if c.lf {
				c.headDone = true
				return
			}
			c.lf = true
		case '\r':
		default:
			c.lf = false
		}
	}
}

// plainErrorHeaders is what net/http writes between an early error's
// status line and its body, which repeats the status line's text.
const plainErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c *conn) Write(p []byte) (int, error) {
	if status, detail, ok := plainError(p); ok {
		if _, err := c.Conn.Write(problemResponse(status, detail)); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// plainError reads p as one of net/http's early error responses,
// "HTTP/1.1 431 Request Header Fields Too Large" + plainErrorHeaders + the
// same text, and returns its status and what the text says beyond the
// status's name.
func plainError(p []byte) (int, string, bool) {
	rest, ok := bytes.CutPrefix(p, []byte("HTTP/1.1 "))
	if !ok {
		return 0, "", false
	}
	text, body, ok := bytes.Cut(rest, []byte(plainErrorHeaders))
	if !ok || !bytes.Equal(text, body) || len(text) < 4 || text[3] != ' ' {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(text[:3]))
	if err != nil || status < 400 || status > 599 {
		return 0, "", false
	}
	detail := string(text[4:])
	if name := http.StatusText(status); detail == name {
		detail = ""
	} else if d, ok := bytes.CutPrefix(text[4:], []byte(name+": ")); ok {
		detail = string(d)
	}
	return status, detail, true
}

func problemResponse(status int, detail string) []byte {
	if detail == "" {
		switch status {
		case http.StatusRequestHeaderFieldsTooLarge:
			detail = "the request's header is larger than the server accepts"
		case http.StatusBadRequest:
			detail = "the request is not valid HTTP"
		}
	}
	body, _ := json.Marshal(Details{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
	body = append(body, '\n')
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\nX-Content-Type-Options: nosniff\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
}

func (c *conn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
