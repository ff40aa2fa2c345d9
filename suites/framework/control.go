package framework

// The control session: dial, log in, send a command, read a reply. Bounded
// reads are in control_read.go, sessions opened together in
// control_pool.go, FEAT in features.go, the stopped-server breaker in
// liveness.go.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/ftp"
)

// Session is a control connection owned by one spec. It is closed when the
// spec ends, and its transcript is printed if the spec fails or warns.
type Session struct {
	*ftp.Conn
	Name string
	// lastPassive is the last 227/229 this session got (for messages
	// about the endpoint it advertised).
	lastPassive ftp.Reply
	// lastPassiveFirst: that reply answered the session's first passive
	// setup, so a data connection to it failing is PASV-004's (EPSV-002's)
	// to judge, not a later state the running check set up.
	lastPassiveFirst bool
}

var (
	liveMu   sync.Mutex
	live     []*Session
	sessions atomic.Int64
)

// Ctx bounds one operation by the configured timeout under the spec context.
func Ctx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, Config().Timeout)
}

// Dial opens a control connection without logging in. Replies are read
// leniently (REPLY-001 grades them from Conn.Problems) so a formatting
// fault does not fail unrelated checks.
func Dial(ctx context.Context, opts ...ftp.Option) *Session {
	GinkgoHelper()
	s, err := TryDial(ctx, opts...)
	if GreetingRefused(err) {
		s, err = awaitGreeting(ctx, err, opts...)
	}
	Expect(err).NotTo(HaveOccurred(), "connect to %s", Config().Addr)
	return s
}

// A greeting refused with 421 is a limit the server enforces on sessions
// (pure-ftpd: "10 users (the maximum) are already logged in"), reached
// because sessions that ended a moment ago are still being torn down by the
// server, or other sessions of the run are open. A check that needs a
// session waits for one to free up, GreetingPatience at most; waits that
// never saw the server admit a session count against GreetingBudget, so a
// server that refuses every session costs the run a bounded time. The
// checks about session limits themselves use TryDial and see the 421.
var (
	GreetingPatience = 20 * time.Second
	GreetingBudget   = 60 * time.Second
	greetingSpent    atomic.Int64 // nanoseconds of unrecovered waiting
)

func awaitGreeting(ctx context.Context, err error, opts ...ftp.Option) (*Session, error) {
	left := GreetingBudget - time.Duration(greetingSpent.Load())
	start := time.Now()
	deadline := start.Add(min(GreetingPatience, left))
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(500 * time.Millisecond):
		}
		s, e := TryDial(ctx, opts...)
		if !GreetingRefused(e) {
			if e == nil {
				GinkgoWriter.Printf("the server admitted a session after refusing for %s\n", time.Since(start).Round(time.Millisecond))
			}
			return s, e
		}
		err = e
	}
	greetingSpent.Add(int64(time.Since(start)))
	return nil, err
}

// TryDial is Dial returning the error instead of failing.
func TryDial(ctx context.Context, opts ...ftp.Option) (*Session, error) {
	all := append([]ftp.Option{ftp.WithReplyPairing(PairingGrace)}, opts...)
	octx, cancel := Ctx(ctx)
	defer cancel()
	all = append(all, secrets()) // last: after any WithTranscript in opts
	conn, err := dialTarget(octx, all...)
	watchLiveness(conn, err)
	if err != nil {
		if tr := ftp.TranscriptOf(err); tr != nil {
			GinkgoWriter.Printf("connect failed; transcript:\n%s", Sanitize(tr.Tail(30)))
		}
		return nil, err
	}
	s := &Session{Conn: conn, Name: fmt.Sprintf("session-%d", sessions.Add(1))}
	track(s)
	DeferCleanup(func() {
		untrack(s)
		recordEvidence(s)
		if CurrentSpecReport().Failed() {
			attachTranscript(s)
		}
		s.Conn.Close()
	})
	return s, nil
}

// PairingGrace is how long after an error reply a session still waits for
// an extra reply before its next command (REPLY-006).
var PairingGrace = 25 * time.Millisecond

func track(s *Session) { liveMu.Lock(); live = append(live, s); liveMu.Unlock() }
func untrack(s *Session) {
	liveMu.Lock()
	defer liveMu.Unlock()
	for i, x := range live {
		if x == s {
			live = append(live[:i], live[i+1:]...)
			return
		}
	}
}

func attachTranscript(s *Session) {
	t := Sanitize(s.Transcript().Tail(40))
	GinkgoWriter.Printf("--- transcript of %s ---\n%s", s.Name, t)
	AddReportEntry(EntryTranscript, s.Name+"\n"+t, ReportEntryVisibilityFailureOrVerbose)
}

// attachTranscripts records every live session's transcript (used when an
// INTEROP/OBSERVE expectation did not hold, so the warning has evidence).
func attachTranscripts() {
	liveMu.Lock()
	ss := append([]*Session(nil), live...)
	liveMu.Unlock()
	for _, s := range ss {
		attachTranscript(s)
	}
}

// Login opens a session and logs in with the configured credentials.
func Login(ctx context.Context, opts ...ftp.Option) *Session {
	GinkgoHelper()
	s := Dial(ctx, opts...)
	s.MustLogin(ctx)
	return s
}

// MustLogin logs in with the configured user.
func (s *Session) MustLogin(ctx context.Context) {
	GinkgoHelper()
	c := Config()
	octx, cancel := Ctx(ctx)
	defer cancel()
	err := s.Login(octx, c.User, c.Password)
	blockOnLoginRefusal(err)
	Expect(err).To(Succeed(), "login as %s", c.User)
	s.SecureData(ctx)
}

func rawLogin(ctx context.Context) (*ftp.Conn, error) {
	c := Config()
	octx, cancel := Ctx(ctx)
	defer cancel()
	conn, err := dialTarget(octx)
	watchLiveness(conn, err)
	if err != nil {
		return nil, err
	}
	if err := conn.Login(octx, c.User, c.Password); err != nil {
		conn.Close()
		return nil, err
	}
	if err := c.ProtectData(octx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// Do sends one command and returns its reply; a network or framing
// failure fails the spec (the reply code is for the caller to judge).
func (s *Session) Do(ctx context.Context, verb string, args ...string) ftp.Reply {
	GinkgoHelper()
	octx, cancel := Ctx(ctx)
	defer cancel()
	r, err := s.Cmd(octx, verb, args...)
	if err != nil {
		s.blockOnDrop(err)
	}
	Expect(err).NotTo(HaveOccurred(), "%s %v: no reply", verb, args)
	return r
}

// Next reads one more reply (after a 1xx, or an asynchronous one).
func (s *Session) Next(ctx context.Context) ftp.Reply {
	GinkgoHelper()
	octx, cancel := Ctx(ctx)
	defer cancel()
	r, err := s.ReadReply(octx)
	Expect(err).NotTo(HaveOccurred(), "reading the next reply")
	return r
}

// TryNext reads one more reply within d, returning the error instead of
// failing (to check that nothing, or something, arrives).
func (s *Session) TryNext(ctx context.Context, d time.Duration) (ftp.Reply, error) {
	octx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return s.ReadReply(octx)
}

// IsTimeout reports a deadline error.
func IsTimeout(err error) bool {
	return err != nil && (ftp.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded))
}
