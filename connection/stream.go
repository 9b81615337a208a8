package connection

import (
	"context"
	"errors"
	"io"
	"reflect"
	"time"
)

// NewReader implements Connection.
func (c *Conn) NewReader() io.Reader { return &messageReader{c: c} }

type messageReader struct {
	c    *Conn
	rest []byte
}

func (r *messageReader) Read(p []byte) (int, error) {
	for len(r.rest) == 0 {
		data, err := r.c.Read()
		if err != nil {
			if r.c.normalEnd(err) {
				return 0, io.EOF
			}
			return 0, err
		}
		r.rest = data
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

// normalEnd reports whether a read error is the peer closing normally.
func (c *Conn) normalEnd(err error) bool {
	switch CloseStatus(err) {
	case CloseNormal, CloseGoingAway, CloseNoStatus:
		return true
	}
	return false
}

// NewWriter implements Connection.
func (c *Conn) NewWriter(typ MessageType) io.Writer { return &messageWriter{c: c, typ: typ} }

type messageWriter struct {
	c   *Conn
	typ MessageType
}

func (w *messageWriter) Write(p []byte) (int, error) {
	if err := w.c.WriteMessage(context.Background(), w.typ, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// PeriodicWrite implements Connection.
func (c *Conn) PeriodicWrite(interval time.Duration, get func() (any, error), same ...func(last, current any) bool) error {
	if interval <= 0 {
		return errors.New("forge: periodic write: interval must be positive")
	}
	equal := reflect.DeepEqual
	if len(same) > 0 && same[0] != nil {
		equal = same[0]
	}
	// Nobody may be reading while this runs: make sure pings are answered
	// and the peer's close is noticed.
	c.startPump()

	var last any
	wrote := false
	step := func() error {
		v, err := get()
		if err != nil {
			return err
		}
		if wrote && equal(last, v) {
			return nil
		}
		if err := c.WriteJSON(v); err != nil {
			return err
		}
		last, wrote = v, true
		return nil
	}
	ended := func(err error) error {
		if c.ctx.Err() != nil && (errors.Is(err, ErrClosed) || errors.Is(err, ErrSlowConsumer)) {
			return nil
		}
		return err
	}
	if err := step(); err != nil {
		return ended(err)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return nil
		case <-t.C:
			if err := step(); err != nil {
				return ended(err)
			}
		}
	}
}
