package framework

// Reading the control connection when a reply may not come, or may not be
// the only one: bounded reads that classify a silence or a close instead
// of failing the spec.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
)

// TryCmd sends one command and reads its reply under the configured
// timeout, returning the error instead of failing (for checks that expect
// the server may close the connection or not answer).
func (s *Session) TryCmd(ctx context.Context, line string) (ftp.Reply, error) {
	octx, cancel := Ctx(ctx)
	defer cancel()
	if err := s.SendLine(octx, line); err != nil {
		return ftp.Reply{}, err
	}
	return s.ReadReply(octx)
}

// Quiet reports the reply that arrived within d when none was expected
// (nil when the server stayed silent). A closed connection is returned as
// an error.
func (s *Session) Quiet(ctx context.Context, d time.Duration) (*ftp.Reply, error) {
	r, err := s.Wait(ctx, d)
	if err == nil {
		return &r, nil
	}
	if IsTimeout(err) {
		return nil, nil
	}
	return nil, err
}

// Wait is TryNext for a reply that may legitimately not come. After a
// timeout it gives ftp.Conn's deadline watcher (a context.AfterFunc that
// can run after the read already returned) time to fire, so it cannot
// poison the deadline of the session's next operation.
func (s *Session) Wait(ctx context.Context, d time.Duration) (ftp.Reply, error) {
	r, err := s.TryNext(ctx, d)
	if err != nil && IsTimeout(err) {
		time.Sleep(25 * time.Millisecond)
	}
	return r, err
}

// ReadOutcome is what came back on a control connection within a bound.
type ReadOutcome struct {
	Reply   ftp.Reply
	Closed  bool  // the server closed (EOF or reset)
	Timeout bool  // nothing arrived in time
	Err     error // the raw error when not nil
}

func (o ReadOutcome) String() string {
	switch {
	case o.Closed:
		return "connection closed by the server"
	case o.Timeout:
		return "no reply"
	case o.Err != nil:
		return "error: " + o.Err.Error()
	}
	return fmt.Sprintf("%s (raw %q)", o.Reply, o.Reply.Raw)
}

// ReadWithin reads one reply within d and classifies what happened
// instead of failing the spec.
func (s *Session) ReadWithin(ctx context.Context, d time.Duration) ReadOutcome {
	r, err := s.TryNext(ctx, d)
	return classify(r, err)
}

// SendWithin sends line and reads one reply within d (for commands that
// may make the server hang up or stay silent).
func (s *Session) SendWithin(ctx context.Context, d time.Duration, line string) ReadOutcome {
	octx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := s.SendLine(octx, line); err != nil {
		return classify(ftp.Reply{}, err)
	}
	r, err := s.ReadReply(octx)
	return classify(r, err)
}

// RawWithin writes raw bytes and reads one reply within d.
func (s *Session) RawWithin(ctx context.Context, d time.Duration, b []byte) ReadOutcome {
	octx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := s.WriteRaw(octx, b); err != nil {
		return classify(ftp.Reply{}, err)
	}
	r, err := s.ReadReply(octx)
	return classify(r, err)
}

// Drain reads every reply that arrives until the connection has been
// quiet for quiet (bounded by max replies).
func (s *Session) Drain(ctx context.Context, quiet time.Duration, max int) ([]ftp.Reply, ReadOutcome) {
	var out []ftp.Reply
	for i := 0; i < max; i++ {
		o := s.ReadWithin(ctx, quiet)
		if o.Closed || o.Timeout || o.Err != nil {
			return out, o
		}
		out = append(out, o.Reply)
	}
	return out, ReadOutcome{Timeout: true}
}

func classify(r ftp.Reply, err error) ReadOutcome {
	if err == nil {
		return ReadOutcome{Reply: r}
	}
	o := ReadOutcome{Reply: r, Err: err}
	switch {
	case IsTimeout(err):
		o.Timeout = true
	case isClosedErr(err):
		o.Closed = true
	}
	return o
}

func isClosedErr(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var pe *ftp.ProtocolError
	if errors.As(err, &pe) && pe.Kind == "eof-mid-reply" {
		return true
	}
	return false
}

// Replies reads replies until n have arrived, the connection ends, or d
// elapses without one; it returns what it got and the error that stopped
// it (nil when n arrived).
func (s *Session) Replies(ctx context.Context, n int, d time.Duration) ([]ftp.Reply, error) {
	var out []ftp.Reply
	for len(out) < n {
		r, err := s.TryNext(ctx, d)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}
