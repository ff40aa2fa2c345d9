package framework

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/ftp"
)

// The passive data path (PASV, EPSV, RANGE, MASQ): passive setup on a
// session, the data connection to the advertised endpoint, raw and
// required passive replies, pending endpoints released at cleanup, and
// port lists for messages. Whether the advertised ports can be reached is
// in passive_reach.go, NAT/container advice in passive_nat.go, waiting out
// a passive pool that ran dry in passive_wait.go.

// Pasv sends PASV (or EPSV) and requires a parseable 227 (229). Over an
// IPv6 control connection it always sends EPSV (dualstack.go).
func (s *Session) Pasv(ctx context.Context, epsv bool) ftp.Endpoint {
	GinkgoHelper()
	ep, _ := s.PasvReply(ctx, epsv)
	return ep
}

// PasvReply is Pasv returning the reply too. A refusal that recovers (the
// pool is exhausted for now) is waited out within PassiveWaitPerSetup and
// the run's PassiveWaitBudget — except in RANGE-007, which judges it. A
// refusal that stays, or a reply that does not parse, blocks the check,
// naming the check that judges it (which itself fails here).
func (s *Session) PasvReply(ctx context.Context, epsv bool) (ftp.Endpoint, ftp.Reply) {
	GinkgoHelper()
	epsv = s.passiveEPSV(epsv)
	t := passiveWithWait(ctx, s.Conn, epsv, Config().Timeout, Running() != ExhaustionJudge)
	if t.Waited > 0 {
		GinkgoWriter.Printf("passive setup: waited %s over %d attempts for refused passive ports to recover\n", t.Waited.Round(time.Millisecond), t.Tries)
	}
	if t.Err == nil {
		s.lastPassive, s.lastPassiveFirst = t.Reply, t.First
		return t.EP, t.Reply
	}
	skipWithoutEPSVOverIPv6(s, t.Reply)
	if t.passiveSetupFailed() {
		blockOrFail(passiveBlocker(epsv, t))
	}
	s.blockOnDrop(t.Err)
	Expect(t.Err).NotTo(HaveOccurred(), "passive setup (reply %s)", t.Reply)
	return t.EP, t.Reply
}

// Data opens a passive data connection (PASV, or EPSV when epsv), dialling
// the control host with the advertised port.
func (s *Session) Data(ctx context.Context, epsv bool) net.Conn {
	GinkgoHelper()
	ep := s.Pasv(ctx, epsv)
	return s.DialEndpoint(ctx, ep, ftp.DataOptions{})
}

// DialEndpoint connects to ep and registers the connection for cleanup.
func (s *Session) DialEndpoint(ctx context.Context, ep ftp.Endpoint, opts ftp.DataOptions) net.Conn {
	GinkgoHelper()
	octx, cancel := Ctx(ctx)
	defer cancel()
	nc, err := s.DialData(octx, ep, opts)
	if Unreachable(err) {
		blockOrFail(s.dataOwner(), fmt.Sprintf("data connection to %s: %s", ep, s.portAdvice(ctx, s.DataTarget(ep, opts.Policy), err)))
	}
	Expect(err).NotTo(HaveOccurred(), "data connection to %s", ep)
	DeferCleanup(func() { nc.Close() })
	return nc
}

// RequireEPSV sends a bare EPSV on s and skips the spec when the server
// does not implement it (500/502): RFC 2428 is an optional extension, not
// part of the RFC 1123 §4.1.2.13 minimum. Any other reply is returned for
// the caller to judge. A 229 leaves a pending listener, which the next
// PASV/EPSV replaces.
//
// A refusal that recovers (a 500 "Address already in use", a 425: the
// pool is exhausted for now) is not "unimplemented": it is waited out like
// any passive setup (PasvReply), then blocks the check naming RANGE-007 or
// EPSV-001.
func RequireEPSV(ctx context.Context, s *Session) ftp.Reply {
	GinkgoHelper()
	t := passiveWithWait(ctx, s.Conn, true, Config().Timeout, Running() != ExhaustionJudge)
	r := t.Reply
	switch {
	case r.Code == 0 && t.Refusal.Code == 0:
		Expect(t.Err).NotTo(HaveOccurred(), "EPSV: no reply")
	case r.Is(500, 502) && !Recovers(r):
		Skip(fmt.Sprintf("server does not implement EPSV (RFC 2428 is optional): %q", r.Raw))
	case Recovers(r) || r.Code == 0:
		if owner, ev := passiveBlocker(true, t); owner != "" || r.Code == 0 {
			blockOrFail(owner, ev)
		}
	case t.Err == nil:
		s.lastPassive, s.lastPassiveFirst = r, t.First
	}
	return r
}

// EPSVImplemented reports whether a bare EPSV on s is answered with
// something other than 500/502 (the probe leaves a pending listener); a
// refusal that recovers (port in use, 425) still says it is implemented.
func EPSVImplemented(ctx context.Context, s *Session) bool {
	GinkgoHelper()
	r := s.Do(ctx, "EPSV")
	return !r.Is(500, 502) || Recovers(r)
}

// PassiveReply is what one PASV/EPSV got: the reply, the endpoint when it
// parsed, and any error.
type PassiveReply struct {
	Verb  string
	Reply ftp.Reply
	EP    ftp.Endpoint
	Err   error
}

// OK reports a parsed 227/229.
func (p PassiveReply) OK() bool { return p.Err == nil && p.EP.Port > 0 }

func (p PassiveReply) String() string {
	if p.Err != nil {
		return fmt.Sprintf("%s -> %q (%v)", p.Verb, p.Reply.Raw, p.Err)
	}
	return fmt.Sprintf("%s -> %q", p.Verb, p.Reply.Raw)
}

// TryPassive sends PASV or EPSV without failing the spec (safe off the spec
// goroutine).
func TryPassive(ctx context.Context, s *Session, epsv bool) PassiveReply {
	epsv = s.passiveEPSV(epsv)
	octx, cancel := Ctx(ctx)
	defer cancel()
	ep, r, err := s.Passive(octx, epsv)
	if err == nil {
		// a raw probe: a data connection to it is the caller's to judge
		s.lastPassive, s.lastPassiveFirst = r, false
	}
	v := "PASV"
	if epsv {
		v = "EPSV"
	}
	return PassiveReply{Verb: v, Reply: r, EP: ep, Err: err}
}

// MustPassive is TryPassive for a check whose own rule is not the passive
// setup (port ranges, masquerading, privileged ports): a refusal that
// recovers is waited out, and one that stays, or an unparsable reply,
// blocks the check naming the check that judges it (PasvReply). Spec
// goroutine only.
func MustPassive(ctx context.Context, s *Session, epsv bool) PassiveReply {
	GinkgoHelper()
	epsv = s.passiveEPSV(epsv)
	ep, r := s.PasvReply(ctx, epsv)
	v := "PASV"
	if epsv {
		v = "EPSV"
	}
	return PassiveReply{Verb: v, Reply: r, EP: ep}
}

// BlockOnPassiveFailure blocks the check when pr is a failed passive setup
// made before the check held any port: a check that needs held ports and
// got none cannot test its own rule. An exhausted pool (a refusal that
// recovers) is RANGE-007's to judge, any other failure (a refusal, an
// unparsable reply) PASV-001's or EPSV-001's; without this a check with
// nothing held would judge nothing and pass.
func BlockOnPassiveFailure(pr PassiveReply) {
	GinkgoHelper()
	if !pr.OK() {
		if pr.Verb == "EPSV" && OverIPv6() {
			skipWithoutEPSV(pr.Reply)
		}
		blockOrFail(passiveBlocker(pr.Verb == "EPSV", passiveTry{Reply: pr.Reply, Err: pr.Err, Refusal: pr.Reply, Tries: 1, First: true}))
	}
}

// PokePassive connects to ep at the control host and closes at once. Some servers
// (twisted) stop reading the control connection after PASV until a data
// connection arrives; poking lets a check issue many PASVs in a row.
func PokePassive(ctx context.Context, s *Session, ep ftp.Endpoint) {
	octx, cancel := Ctx(ctx)
	defer cancel()
	if nc, err := ftp.DialTCP(octx, s.DataTarget(ep, ftp.ControlHost), nil); err == nil {
		nc.Close()
	}
}

// ServerIsLocal reports whether the server under test listens on a loopback
// address, so the harness may bind or dial its ports directly.
func ServerIsLocal() bool {
	ip := net.ParseIP(Config().Host())
	return ip != nil && ip.IsLoopback()
}

// PortList renders ports for messages.
func PortList(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ",")
}

// ShortPortList is PortList of at most n ports ("…" when there are more).
func ShortPortList(ps []int, n int) string {
	if len(ps) <= n {
		return PortList(ps)
	}
	return PortList(ps[:n]) + ",…"
}

// UniqPorts drops repeated ports, keeping the first-seen order.
func UniqPorts(ps []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// PendingPorts collects passive endpoints a spec leaves pending. When the spec ends
// each one is connected to once and closed, so a server that keeps a
// listener until a connection arrives (or its own timeout) releases it and
// later specs start from a free range. Create it after the sessions it
// tracks: cleanups run in reverse order, so it runs before they close.
type PendingPorts struct {
	mu    sync.Mutex
	addrs []string
}

// NewPendingPorts returns a tracker whose endpoints are released at cleanup.
func NewPendingPorts() *PendingPorts {
	h := &PendingPorts{}
	DeferCleanup(h.release)
	return h
}

// Add tracks the pending endpoint ep of session s.
func (h *PendingPorts) Add(s *Session, ep ftp.Endpoint) {
	h.mu.Lock()
	h.addrs = append(h.addrs, s.DataTarget(ep, ftp.ControlHost))
	h.mu.Unlock()
}

func (h *PendingPorts) release() {
	h.mu.Lock()
	addrs := h.addrs
	h.addrs = nil
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if c, err := ftp.DialTCP(ctx, a, nil); err == nil {
				c.Close()
			}
		}()
	}
	wg.Wait()
}
