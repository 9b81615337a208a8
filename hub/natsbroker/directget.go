package natsbroker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// directGet is a request of the JetStream direct get API, which reads
// stored messages without a consumer: the last message of a subject, the
// first at or after a sequence, or a batch of those.
type directGet struct {
	Seq      uint64 `json:"seq,omitempty"`
	LastFor  string `json:"last_by_subj,omitempty"`
	NextFor  string `json:"next_by_subj,omitempty"`
	Batch    int    `json:"batch,omitempty"`
	MaxBytes int    `json:"max_bytes,omitempty"`
}

// Bounds of one batch read: the server answers a batch with a burst of
// messages, which nats.go buffers for the reader.
const (
	maxBatch      = 256
	maxBatchBytes = 1 << 20
)

// Status codes of direct get answers.
const (
	statusNoMessage = "404"
	statusEndBatch  = "204"
	statusNoOneHome = "503" // no responders: the stream does not exist
)

// record is a message of a room's history as the stream keeps it.
type record struct {
	seq   uint64    // stream sequence
	at    time.Time // when the server stored it
	epoch string
	off   uint64        // 0 for a marker
	size  uint64        // of the history when it was appended
	ttl   time.Duration // of the history when it was appended; 0: no age limit
	mark  uint64        // stream sequence of its checkpoint, 0 for none
	data  []byte
}

func (b *Broker) directSubject() string {
	return "$JS.API.DIRECT.GET." + b.cfg.stream
}

// getOne returns the message req asks for, or nil if there is none.
func (b *Broker) getOne(ctx context.Context, req directGet) (*record, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	m, err := b.nc.RequestWithContext(ctx, b.directSubject(), body)
	if err != nil {
		return nil, err
	}
	if done, err := status(m); done || err != nil {
		return nil, err
	}
	r, err := parseRecord(m)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// getBatch returns the messages of the batch req asks for, in stream
// order: req.Batch of them at most, fewer at the end of the stream or past
// req.MaxBytes; more reports that messages req matches follow them.
func (b *Broker) getBatch(ctx context.Context, req directGet) (recs []record, more bool, err error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, false, err
	}
	sub, err := b.takeInbox()
	if err != nil {
		return nil, false, err
	}
	ended := false // the answer came whole: sub may serve again
	defer func() { b.putInbox(sub, ended) }()
	if err := b.nc.PublishRequest(b.directSubject(), sub.Subject, body); err != nil {
		return nil, false, err
	}
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return nil, false, err
		}
		if done, err := status(m); done || err != nil {
			ended = true
			// The end of a batch counts the messages after it.
			pending := m.Header.Get("Nats-Num-Pending")
			return recs, pending != "" && pending != "0", err
		}
		r, err := parseRecord(m)
		if err != nil {
			return nil, false, err
		}
		recs = append(recs, r)
	}
}

// maxInboxes bounds the inboxes kept for batch reads.
const maxInboxes = 8

// takeInbox returns a subscription on an inbox of its own for a batch
// read: one kept from an earlier read, since subscribing costs the server
// more than the read.
func (b *Broker) takeInbox() (*nats.Subscription, error) {
	b.mu.Lock()
	if n := len(b.inboxes); n > 0 {
		sub := b.inboxes[n-1]
		b.inboxes = b.inboxes[:n-1]
		b.mu.Unlock()
		return sub, nil
	}
	b.mu.Unlock()
	return b.nc.SubscribeSync(b.nc.NewInbox())
}

// putInbox keeps sub for the next batch read if its answer ended, so that
// nothing more comes to it, and there is room; else it unsubscribes.
func (b *Broker) putInbox(sub *nats.Subscription, ended bool) {
	b.mu.Lock()
	if ended && !b.closed && len(b.inboxes) < maxInboxes {
		b.inboxes = append(b.inboxes, sub)
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	_ = sub.Unsubscribe() // fails only if the connection closed
}

// status reads the status of a direct get answer: done for the end of
// the answer (no message, or the end of a batch), an error for a failure.
func status(m *nats.Msg) (done bool, err error) {
	if len(m.Data) > 0 {
		return false, nil
	}
	switch code := m.Header.Get("Status"); code {
	case "":
		return false, nil
	case statusNoMessage, statusEndBatch:
		return true, nil
	case statusNoOneHome:
		return true, nats.ErrNoResponders
	default:
		return true, fmt.Errorf("direct get: status %s %s", code, m.Header.Get("Description"))
	}
}

// History headers, beside the server's.
const (
	hdrEpoch  = "Forge-Epoch"
	hdrOffset = "Forge-Offset"
	hdrSize   = "Forge-Size"
	hdrTTL    = "Forge-TTL"
	hdrMark   = "Forge-Mark"
)

var errNotHistory = errors.New("a message of the history stream lacks forge's headers")

// parseRecord reads a message of a direct get answer.
func parseRecord(m *nats.Msg) (record, error) {
	h := m.Header
	var r record
	var err error
	if r.seq, err = strconv.ParseUint(h.Get(jetstream.SequenceHeader), 10, 64); err != nil {
		return r, fmt.Errorf("direct get: sequence: %w", err)
	}
	if r.at, err = time.Parse(time.RFC3339Nano, h.Get(jetstream.TimeStampHeaer)); err != nil {
		return r, fmt.Errorf("direct get: time stamp: %w", err)
	}
	r.epoch = h.Get(hdrEpoch)
	off, errOff := strconv.ParseUint(h.Get(hdrOffset), 10, 64)
	if r.epoch == "" || errOff != nil {
		return r, fmt.Errorf("%w (sequence %d)", errNotHistory, r.seq)
	}
	r.off, r.data = off, m.Data
	if off == 0 {
		return r, nil // a marker
	}
	if r.size, err = strconv.ParseUint(h.Get(hdrSize), 10, 64); err != nil || r.size == 0 {
		return r, fmt.Errorf("%w (sequence %d)", errNotHistory, r.seq)
	}
	if v := h.Get(hdrMark); v != "" {
		if r.mark, err = strconv.ParseUint(v, 10, 64); err != nil {
			return r, fmt.Errorf("%w (sequence %d)", errNotHistory, r.seq)
		}
	}
	if v := h.Get(hdrTTL); v != "" {
		if r.ttl, err = time.ParseDuration(v); err != nil || r.ttl < 0 {
			return r, fmt.Errorf("%w (sequence %d)", errNotHistory, r.seq)
		}
	}
	return r, nil
}
