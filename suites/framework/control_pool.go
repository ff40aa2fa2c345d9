package framework

import (
	"context"
	"errors"
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ftpharness/ftpharness/ftp"
)

// SessionPool is a set of logged-in control connections opened together (range
// and concurrency checks). Every connection is closed when the spec ends.
type SessionPool struct {
	Sessions []*Session
	// Refused is the first connection the server turned away (a 421
	// greeting or a failed login), nil if all opened.
	Refused error
}

// OpenSessionPool opens up to n logged-in sessions, at most parallel at a time,
// stopping at the first connection the server refuses (421 greeting,
// refused login, connect error). Sessions are returned in the order they
// were asked for; only the ones before the first refusal are kept.
func OpenSessionPool(ctx context.Context, n, parallel int) *SessionPool {
	GinkgoHelper()
	if parallel < 1 {
		parallel = 1
	}
	c := Config()
	p := &SessionPool{}
	conns := make([]*ftp.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			octx, cancel := Ctx(ctx)
			defer cancel()
			conn, err := dialTarget(octx)
			if err != nil {
				errs[i] = err
				return
			}
			if err := conn.Login(octx, c.User, c.Password); err != nil {
				conn.Close()
				errs[i] = fmt.Errorf("login: %w", err)
				return
			}
			if err := c.ProtectData(octx, conn); err != nil {
				conn.Close()
				errs[i] = fmt.Errorf("PBSZ 0/PROT P: %w", err)
				return
			}
			conns[i] = conn
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		if errs[i] != nil && p.Refused == nil {
			p.Refused = errs[i]
		}
		if conns[i] == nil {
			continue
		}
		if p.Refused != nil {
			// keep the pool a prefix of what was asked for
			conns[i].Close()
			continue
		}
		p.Sessions = append(p.Sessions, &Session{Conn: conns[i], Name: fmt.Sprintf("pool-%d", sessions.Add(1))})
	}
	ss := append([]*Session(nil), p.Sessions...)
	DeferCleanup(func() {
		for _, s := range ss {
			s.Conn.Close()
		}
	})
	return p
}

// GreetingRefused reports whether err is a 421 greeting (the server
// limiting its clients rather than failing).
func GreetingRefused(err error) bool { return errors.Is(err, ftp.ErrRefused) }

// ShowTranscript prints and attaches the transcript of s (for pool sessions,
// which are not attached automatically on failure).
func ShowTranscript(s *Session) { attachTranscript(s) }
