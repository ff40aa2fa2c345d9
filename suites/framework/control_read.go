package framework

import (
	"context"
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
