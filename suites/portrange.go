package suites

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/ftp"
	. "github.com/ftpharness/ftpharness/suites/framework"
	. "github.com/ftpharness/ftpharness/suites/matchers"
)

// Passive port range checks. The operator declares the range the server
// is configured with (--ftp.pasv-range); checks that hold many sessions
// size themselves from it, run Serial, and close every session at the end.
var _ = Describe("RANGE", Label("port-range"), func() {

	// proftpd/proftpd#1342, ProFTPD Config/PassivePorts.pm, pyftpdlib
	// test_passive_ports: firewalls open exactly the configured range, so
	// every advertised passive port (PASV and EPSV) must lie inside it.
	Check("RANGE-001", func(ctx SpecContext) {
		lo, hi := RequireRange()
		var vs []string
		var outside []int
		for i := 0; i < 3; i++ {
			s := Login(ctx)
			probe := TryPassive(ctx, s, true)
			epsv := !probe.Reply.Is(500, 502)
			if probe.OK() && (probe.EP.Port < lo || probe.EP.Port > hi) {
				vs = append(vs, fmt.Sprintf("session %d: %s: port %d outside %d-%d", i+1, probe, probe.EP.Port, lo, hi))
				outside = append(outside, probe.EP.Port)
			}
			for j := 0; j < 8; j++ {
				pr := MustPassive(ctx, s, epsv && j%2 == 1)
				if pr.EP.Port < lo || pr.EP.Port > hi {
					vs = append(vs, fmt.Sprintf("session %d: %s: port %d outside %d-%d", i+1, pr, pr.EP.Port, lo, hi))
					outside = append(outside, pr.EP.Port)
				}
				PokePassive(ctx, s, pr.EP)
			}
			s.Quit(ctx)
		}
		if len(vs) > 0 {
			Problem(fmt.Sprintf("%s:\n  %s", RangeAdvice(ServerSoftware(ctx, nil), lo, hi, UniqPorts(outside)), strings.Join(vs, "\n  ")))
		}
	})

	// bolcom/libunftp PR#244: an off-by-one made the upper bound unusable.
	// Both ends of the inclusive range must be handed out eventually. A
	// lowest-free-port allocator only reaches hi when every lower port is
	// held, so if one session's PASVs stay at the bottom the check holds
	// ports in more sessions until hi appears. A bound an earlier check
	// used may still be held by the server (vsftpd's session waits out a
	// 60 s accept timeout on a listener nobody reached, and does not see
	// the control connection close meanwhile): a bound missing so is
	// looked for again once it is free; one the server never advertised
	// (an off-by-one) costs no wait.
	Check("RANGE-002", Serial, func(ctx SpecContext) {
		lo, hi := RequireRange()
		AwaitPoolRecovery(ctx)
		size := hi - lo + 1
		seen := map[int]bool{}
		start := time.Now()
		n := scanPassivePorts(ctx, seen, lo, hi)
		if !(seen[lo] && seen[hi]) && len(seen) < size/2+1 && size <= 64 {
			GinkgoWriter.Printf("%d PASVs in one session used only ports %s: holding ports in up to %d sessions\n", n, PortList(sortedPorts(seen)), size)
			held := NewPendingPorts()
			for k := 0; k < size && !seen[hi]; k++ {
				h, err := TryDial(ctx)
				if err != nil {
					GinkgoWriter.Printf("session %d refused: %v\n", k+1, err)
					break
				}
				h.MustLogin(ctx)
				pr := TryPassive(ctx, h, false)
				if !pr.OK() {
					GinkgoWriter.Printf("holding session %d: %s\n", k+1, pr)
					break
				}
				seen[pr.EP.Port] = true
				held.Add(h, pr.EP)
			}
		}
		if !(seen[lo] && seen[hi]) && len(seen) < size/2 && AwaitTransfersCooled(ctx) {
			// few ports even with ports held: the rest may be cooling from
			// the suite's own transfers (TIME_WAIT on the server's side)
			scanPassivePorts(ctx, seen, lo, hi)
		}
		if missing := missingBounds(seen, lo, hi); len(missing) > 0 && AwaitPortsFreed(ctx, start, missing...) {
			// a bound an earlier check used may have been held by the
			// server while this one looked (a session waiting out its
			// accept timeout on it, or TIME_WAIT): once it is free, look
			// again
			scanPassivePorts(ctx, seen, lo, hi)
		}
		if len(missingBounds(seen, lo, hi)) > 0 {
			// A bound may still be held by a listener of a session that
			// is slow to go: a lowest-free-port allocator then finds lo
			// busy, a random one skips it. Give it a bounded moment.
			lookForBounds(ctx, seen, lo, hi, Config().Timeout+time.Second)
		}
		used := PortList(sortedPorts(seen))
		Expect(seen[lo]).To(BeTrue(), "the lower bound %d was never advertised (ports seen: %s)", lo, used)
		Expect(seen[hi]).To(BeTrue(), "the upper bound %d was never advertised (ports seen: %s)", hi, used)
	})

	// Interoperability (INTEROP), no RFC sentence: proftpd/proftpd#1171,
	// #1191, hfiref0x/LightFTP#2: two sessions whose PASVs raced were given
	// the same port, so one client's data went to the other. Pending
	// listeners of concurrent sessions should be distinct.
	Check("RANGE-003", Serial, func(ctx SpecContext) {
		lo, hi := RequireRange()
		AwaitPoolRecovery(ctx)
		size := hi - lo + 1
		// size/2-2 leaves headroom under servers that cap clients at
		// half the range (pure-ftpd).
		k := max(2, min(size/2-2, 16))
		pool := OpenSessionPool(ctx, k, 4)
		for try := 0; try < 3 && len(pool.Sessions) < 2 && pool.Refused != nil; try++ {
			time.Sleep(time.Second)
			pool = OpenSessionPool(ctx, k, 4)
		}
		if pool.Refused != nil {
			Observe(fmt.Sprintf("concurrent sessions (asked for %d)", k), fmt.Sprintf("%d accepted, then: %v", len(pool.Sessions), pool.Refused))
		}
		Expect(len(pool.Sessions)).To(BeNumerically(">=", 2), "need two concurrent sessions: %v", pool.Refused)
		held := NewPendingPorts()
		epsv := EPSVImplemented(ctx, pool.Sessions[0])
		results := make([]PassiveReply, len(pool.Sessions))
		eachSession(pool.Sessions, func(i int, s *Session) {
			results[i] = TryPassive(ctx, s, epsv && i%2 == 1)
		})
		owners := map[int][]int{}
		ok := 0
		var refusal PassiveReply
		for i, r := range results {
			if !r.OK() {
				GinkgoWriter.Printf("session %d: %s\n", i+1, r)
				refusal = r
				continue
			}
			ok++
			held.Add(pool.Sessions[i], r.EP)
			owners[r.EP.Port] = append(owners[r.EP.Port], i+1)
		}
		if ok == 0 || (ok == 1 && Recovers(refusal.Reply)) {
			// none held (PASV fails for all), or the pool ran dry after one
			BlockOnPassiveFailure(refusal)
		}
		Expect(ok).To(BeNumerically(">=", 2), "at least two concurrent PASV/EPSV must succeed to compare ports")
		var vs []string
		for p, ss := range owners {
			if len(ss) > 1 {
				vs = append(vs, fmt.Sprintf("port %d was advertised to sessions %v at the same time", p, ss))
			}
		}
		ExpectNoViolations(vs, fmt.Sprintf("%d sessions each holding a pending listener", ok))
	})

	// Security practice (INTEROP): RFC 2577 §8 (port stealing): "This
	// problem can be mitigated by making FTP clients and servers use random
	// local port numbers for data connections" — advice, no requirement.
	// ProFTPD pasv_ports_random_issue1396.
	Check("RANGE-004", func(ctx SpecContext) {
		AwaitPoolRecovery(ctx)
		var firsts []int
		for i := 0; i < 5; i++ {
			s := Login(ctx)
			pr := MustPassive(ctx, s, false)
			firsts = append(firsts, pr.EP.Port)
			PokePassive(ctx, s, pr.EP)
			s.Quit(ctx)
		}
		s := Login(ctx)
		var consec []int
		for i := 0; i < 6; i++ {
			pr := MustPassive(ctx, s, false)
			consec = append(consec, pr.EP.Port)
			PokePassive(ctx, s, pr.EP)
		}
		var vs []string
		if why := predictable(firsts); why != "" {
			vs = append(vs, fmt.Sprintf("first PASV of %d new sessions: ports %s are %s", len(firsts), PortList(firsts), why))
		}
		if why := predictable(consec); why != "" {
			vs = append(vs, fmt.Sprintf("%d consecutive PASVs in one session: ports %s are %s", len(consec), PortList(consec), why))
		}
		ExpectNoViolations(vs, "passive ports must not be predictable")
	})

	// Apache FtpServer PasvPortUnavailableTest (425), ftpserverlib (421),
	// pyftpdlib test_passive_ports_busy (falls back outside the range): when
	// every port of the range is held, the next PASV must get a 4xx, never
	// a port outside the range the firewall opens.
	Check("RANGE-005", Serial, func(ctx SpecContext) {
		lo, hi := RequireRange()
		size := hi - lo + 1
		if size > 64 {
			Skip(fmt.Sprintf("the declared range has %d ports; exhausting it needs more than the 65 sessions this check opens", size))
		}
		pool := OpenSessionPool(ctx, size+1, 4)
		if pool.Refused != nil {
			if GreetingRefused(pool.Refused) {
				Observe("server limits concurrent clients", fmt.Sprintf("connection %d of %d refused before the %d-port range could be exhausted: %v", len(pool.Sessions)+1, size+1, size, pool.Refused))
			} else {
				Observe("opening sessions", fmt.Sprintf("%d of %d opened, then: %v", len(pool.Sessions), size+1, pool.Refused))
			}
		}
		Expect(pool.Sessions).NotTo(BeEmpty(), "no session could be opened: %v", pool.Refused)
		pending := NewPendingPorts()
		var vs []string
		held, refused := 0, false
		for i, s := range pool.Sessions {
			pr := TryPassive(ctx, s, false)
			if held == 0 {
				// refused before holding any port: the pool was empty
				// before this check (RANGE-007's) or PASV fails for all
				// (PASV-001's), nothing to judge here
				BlockOnPassiveFailure(pr)
			}
			if pr.OK() {
				held++
				pending.Add(s, pr.EP)
				if pr.EP.Port < lo || pr.EP.Port > hi {
					vs = append(vs, fmt.Sprintf("session %d (with %d ports of %d-%d held): %s: port %d is outside the range", i+1, held-1, lo, hi, pr, pr.EP.Port))
					ShowTranscript(s)
				}
				continue
			}
			refused = true
			if pr.Reply.Class() != 4 {
				vs = append(vs, fmt.Sprintf("session %d (with %d ports held): %s (want a 4xx: the range is exhausted, retry later)", i+1, held, pr))
				ShowTranscript(s)
			} else {
				Observe("exhaustion reply", fmt.Sprintf("session %d, %d ports held: %q", i+1, held, pr.Reply.Raw))
			}
			break
		}
		if !refused && len(pool.Sessions) <= size {
			Observe("range not exhausted", fmt.Sprintf("only %d sessions could be opened for a %d-port range; every PASV got an in-range port", len(pool.Sessions), size))
		}
		ExpectNoViolations(vs, "with the range exhausted the server must answer 4xx and never leave the range")
	})

	// Apache FtpServer PasvUsedPortTest: a port of the range that another
	// program holds must be skipped; the server advertises a free in-range
	// port instead of failing or advertising the busy one.
	Check("RANGE-006", Serial, func(ctx SpecContext) {
		lo, hi := RequireRange()
		if !ServerIsLocal() {
			Skip("the server is not on this host (loopback), so the harness cannot occupy a port of its range")
		}
		size := hi - lo + 1
		if size < 2 {
			Skip("a one-port range cannot have a port occupied and still serve PASV")
		}
		// A pool earlier checks emptied is waited out first (PasvReply, on
		// a session of its own, poked: some servers read no command until
		// a PASV's data connection arrives): a refusal after the ports are
		// occupied is then this check's.
		w := Login(ctx)
		PokePassive(ctx, w, w.Pasv(ctx, false))
		w.Close()
		// Occupy the lowest port that can be bound (a lowest-free-port
		// allocator tries it first) and, on larger ranges, one random
		// other port (a random allocator hits it eventually); at least one
		// port stays free.
		host := net.ParseIP(Config().Host())
		want := 1
		if size >= 4 {
			want = 2
		}
		candidates := []int{}
		for p := lo; p <= hi; p++ {
			candidates = append(candidates, p)
		}
		rest := candidates[1:]
		rand.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		// Ports an earlier session left listening (until the server's own
		// timeout) cannot be occupied: retry for a bounded moment.
		occupied := map[int]bool{}
		deadline := time.Now().Add(Config().Timeout + time.Second)
		for {
			for _, p := range candidates {
				if len(occupied) >= want || len(occupied) >= size-1 {
					break
				}
				ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: host, Port: p})
				if err != nil {
					continue
				}
				DeferCleanup(ln.Close)
				occupied[p] = true
			}
			if len(occupied) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if len(occupied) == 0 {
			Skip("could not occupy any port of the range (already in use)")
		}
		s := Login(ctx)
		n := min(3*size, 150)
		var vs []string
		for i := 1; i <= n; i++ {
			pr := TryPassive(ctx, s, false)
			if !pr.OK() {
				vs = append(vs, fmt.Sprintf("PASV #%d with ports %s held by another program: %s (the busy ports should be skipped)", i, PortList(sortedPorts(occupied)), pr))
				break
			}
			if occupied[pr.EP.Port] {
				vs = append(vs, fmt.Sprintf("PASV #%d advertised port %d, which another program holds: %q", i, pr.EP.Port, pr.Reply.Raw))
				break
			}
			if pr.EP.Port < lo || pr.EP.Port > hi {
				vs = append(vs, fmt.Sprintf("PASV #%d advertised port %d outside %d-%d: %q", i, pr.EP.Port, lo, hi, pr.Reply.Raw))
			}
			PokePassive(ctx, s, pr.EP)
		}
		ExpectNoViolations(vs, "a port of the range held by another program must be skipped")
	})

	// giampaolo/pyftpdlib#176: without SO_REUSEADDR a port in TIME_WAIT
	// cannot be listened on again, so a busy client running more transfers
	// than the range has ports fails. All must succeed, in range.
	Check("RANGE-007", func(ctx SpecContext) {
		lo, hi := RequireRange()
		size := hi - lo + 1
		n := size + 5
		if n > MaxRangeTransfers {
			Skip(fmt.Sprintf("the declared range has %d ports; exceeding it takes more than the %d transfers this check runs", size, MaxRangeTransfers))
		}
		s := Login(ctx)
		name := Name(ctx, "range007")
		payload := bytes.Repeat([]byte("range-007\n"), 100)
		s.Put(ctx, name, payload)
		var vs []string
		for i := 1; i <= n; i++ {
			pr := TryPassive(ctx, s, false)
			if !pr.OK() {
				NotePoolRanDry(pr.Reply)
				vs = append(vs, fmt.Sprintf("transfer %d of %d: %s", i, n, pr))
				break
			}
			if pr.EP.Port < lo || pr.EP.Port > hi {
				vs = append(vs, fmt.Sprintf("transfer %d: port %d outside %d-%d", i, pr.EP.Port, lo, hi))
			}
			octx, cancel := Ctx(ctx)
			nc, err := s.DialData(octx, pr.EP, ftp.DataOptions{})
			if err != nil {
				cancel()
				vs = append(vs, fmt.Sprintf("transfer %d: %s", i, s.UnreachableAdvice(ctx, s.DataTarget(pr.EP, ftp.ControlHost), err)))
				break
			}
			var got bytes.Buffer
			res := s.Transfer(octx, nc, "RETR "+name, nil, &got)
			cancel()
			if !res.OK() || !bytes.Equal(got.Bytes(), payload) {
				vs = append(vs, fmt.Sprintf("transfer %d (port %d): %s", i, pr.EP.Port, res))
				break
			}
		}
		ExpectNoViolations(vs, fmt.Sprintf("%d sequential transfers over a %d-port range", n, size))
	})

	// RFC 959 §4.1.1 QUIT: "An unexpected close on the control connection
	// will cause the server to take the effective action of an abort (ABOR)
	// and a logout (QUIT)"; ftpserverlib PR#412 and stewarttylerr/ftpserver#2
	// leaked passive listeners of sessions that went away. After sessions
	// holding PASV vanish or QUIT, their listeners must close and fresh
	// sessions must still get in-range ports. ABOR with the session kept
	// open closes only an open data connection (§4.1.3), so a listener left
	// after it only warns (INTEROP).
	Check("RANGE-008", Serial, func(ctx SpecContext) {
		lo, hi := RequireRange()
		size := hi - lo + 1
		m := min(size, 32)
		pool := openSessionPoolWaiting(ctx, m, 4, 5*time.Second)
		if pool.Refused != nil {
			Observe("server limits concurrent clients", fmt.Sprintf("%d of %d sessions opened, then: %v", len(pool.Sessions), m, pool.Refused))
		}
		Expect(pool.Sessions).NotTo(BeEmpty(), "no session could be opened: %v", pool.Refused)
		// Endpoints are poked after the verdict so a server that leaked
		// them (until its own timeout) does not taint later specs.
		leftovers := NewPendingPorts()
		held := 0
		ports := make([]int, len(pool.Sessions))
		var firstRefusal PassiveReply
		for i, s := range pool.Sessions {
			pr := TryPassive(ctx, s, false)
			if pr.OK() {
				held++
				ports[i] = pr.EP.Port
				leftovers.Add(s, pr.EP)
			} else if firstRefusal.Verb == "" {
				firstRefusal = pr
			}
		}
		if held == 0 {
			// nothing held, nothing to release: the rule cannot be tested
			BlockOnPassiveFailure(firstRefusal)
			Fail("no passive port could be held: every session's PASV failed") // not reached
		}
		// Release: abrupt close, QUIT, or ABOR (the session stays open).
		type released struct {
			port int
			how  string
		}
		var rel []released
		how := map[string]int{}
		releaseStart := time.Now()
		for i, s := range pool.Sessions {
			// short bound: a server that stops reading after PASV must not
			// stall the release of every session
			octx, cancel := context.WithTimeout(ctx, 2*time.Second)
			var h string
			switch i % 3 {
			case 0:
				s.Close()
				h = "closed abruptly"
			case 1:
				s.Cmd(octx, "QUIT")
				s.Close()
				h = "QUIT"
			case 2:
				s.Cmd(octx, "ABOR")
				h = abortedHow
			}
			cancel()
			how[h]++
			if ports[i] > 0 {
				rel = append(rel, released{ports[i], h})
			}
		}
		GinkgoWriter.Printf("%d sessions held %d passive ports; released by %v\n", len(pool.Sessions), held, how)

		// The released listeners must stop listening (checked without
		// connecting, where the server is on this host).
		if ServerIsLocal() {
			var stuck, afterAbor []string
			deadline := time.Now().Add(5 * time.Second)
			for {
				lp, err := listeningPorts()
				if err != nil {
					GinkgoWriter.Printf("listener check skipped: %v\n", err)
					break
				}
				stuck, afterAbor = stuck[:0], afterAbor[:0]
				for _, r := range rel {
					if !lp[r.port] {
						continue
					}
					msg := fmt.Sprintf("port %d still listening after the session's %s", r.port, r.how)
					if r.how == abortedHow {
						afterAbor = append(afterAbor, msg)
					} else {
						stuck = append(stuck, msg)
					}
				}
				if len(stuck)+len(afterAbor) == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(250 * time.Millisecond)
			}
			// the sessions were released one by one (each within 2 s), so the
			// first released had longer than the last: say both
			waited := fmt.Sprintf("waited 5s after the last release, %s after the first", time.Since(releaseStart).Round(100*time.Millisecond))
			if len(afterAbor) > 0 {
				Warn("RANGE-008 (INTEROP, ABOR part): PASV then ABOR with the session kept open left the listener open (%s): %s; RFC 959 §4.1.3 ABOR closes an open data connection, none was open; fix: close the pending passive listener on ABOR", waited, strings.Join(afterAbor, "; "))
			}
			ExpectNoViolations(stuck, fmt.Sprintf("passive listeners of sessions that closed the control connection or sent QUIT must be closed (RFC 959 §4.1.1; %s; released by %v); fix: close a session's passive listener when the session ends", waited, how))
		}
		// The ABOR sessions now go away too, so what they still hold is
		// released by the close (the MUST part), which the fresh sessions
		// below rely on.
		for i, s := range pool.Sessions {
			if i%3 == 2 {
				s.Close()
			}
		}

		// As many fresh sessions as ports were released by a close or QUIT:
		// the range keeps some headroom, so a server that picks random
		// ports with a few retries (vsftpd) is not judged on filling its
		// range to the last port (RANGE-005/007's business), nor on ports
		// it could not hand out before (busy, or cooling from earlier
		// transfers).
		want := 0
		for _, r := range rel {
			if r.how != abortedHow {
				want++
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		for attempt := 1; ; attempt++ {
			fresh := OpenSessionPool(ctx, want, 4)
			var vs []string
			for i, s := range fresh.Sessions {
				pr := TryPassive(ctx, s, false)
				if pr.OK() {
					leftovers.Add(s, pr.EP)
				}
				switch {
				case !pr.OK():
					vs = append(vs, fmt.Sprintf("fresh session %d: %s", i+1, pr))
				case pr.EP.Port < lo || pr.EP.Port > hi:
					vs = append(vs, fmt.Sprintf("fresh session %d: %s: port %d outside %d-%d", i+1, pr, pr.EP.Port, lo, hi))
				}
			}
			note := ""
			if fresh.Refused != nil {
				note = fmt.Sprintf(" (%d fresh sessions opened, then: %v)", len(fresh.Sessions), fresh.Refused)
			}
			for _, s := range fresh.Sessions {
				s.Close()
			}
			if len(vs) == 0 {
				GinkgoWriter.Printf("attempt %d: %d fresh sessions all got in-range ports%s\n", attempt, len(fresh.Sessions), note)
				if len(fresh.Sessions) < want {
					Observe("fresh sessions", fmt.Sprintf("only %d of %d could be opened%s", len(fresh.Sessions), m, note))
				}
				return
			}
			if time.Now().After(deadline) {
				ExpectNoViolations(vs, fmt.Sprintf("passive ports of %d sessions that went away (%v) must be released; after %d attempts over 5s fresh sessions still fail%s", len(pool.Sessions), how, attempt, note))
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
	})

	// fclairamb/ftpserverlib PR#623 (passive port multiplexing): sessions
	// from different client addresses may share one port, but each must get
	// only its own data. Recorded.
	Check("RANGE-009", func(ctx SpecContext) {
		RequireSecondAddress("a second client address (--ftp.foreign-source)", Config().ForeignSource)
		foreign := net.ParseIP(Config().ForeignSource)
		a := Login(ctx)
		b := Login(ctx, ftp.WithLocalIP(foreign))
		nameA, nameB := Name(ctx, "range009a"), Name(ctx, "range009b")
		dataA, dataB := bytes.Repeat([]byte("A"), 3000), bytes.Repeat([]byte("B"), 5000)
		a.Put(ctx, nameA, dataA)
		a.Put(ctx, nameB, dataB)
		b.Do(ctx, "TYPE", "I")
		epA := a.Pasv(ctx, false)
		epB := b.Pasv(ctx, false)
		Observe("ports for clients "+a.LocalIP().String()+" and "+b.LocalIP().String(), fmt.Sprintf("%d and %d (shared: %v; multiplex declared: %v)", epA.Port, epB.Port, epA.Port == epB.Port, Config().Has("multiplex")))
		ncA := a.DialEndpoint(ctx, epA, ftp.DataOptions{})
		ncB := b.DialEndpoint(ctx, epB, ftp.DataOptions{LocalIP: foreign})
		octx, cancel := Ctx(ctx)
		defer cancel()
		var gotA, gotB bytes.Buffer
		resA := a.Transfer(octx, ncA, "RETR "+nameA, nil, &gotA)
		resB := b.Transfer(octx, ncB, "RETR "+nameB, nil, &gotB)
		Expect(resA).To(Complete())
		Expect(resB).To(Complete())
		Expect(bytes.Equal(gotA.Bytes(), dataA)).To(BeTrue(), "client %s got %d bytes, not its own %d", a.LocalIP(), gotA.Len(), len(dataA))
		Expect(bytes.Equal(gotB.Bytes(), dataB)).To(BeTrue(), "client %s got %d bytes, not its own %d", b.LocalIP(), gotB.Len(), len(dataB))
	})
})

func sortedPorts(m map[int]bool) []int {
	var out []int
	for p := range m {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}

// predictable names the pattern when ports are all equal or strictly +1.
func predictable(ps []int) string {
	if len(ps) < 3 {
		return ""
	}
	same, inc := true, true
	for i := 1; i < len(ps); i++ {
		if ps[i] != ps[0] {
			same = false
		}
		if ps[i] != ps[i-1]+1 {
			inc = false
		}
	}
	switch {
	case same:
		return "constant (" + strconv.Itoa(ps[0]) + ")"
	case inc:
		return "strictly increasing by one"
	}
	return ""
}

// abortedHow names RANGE-008's release by ABOR with the session kept open.
const abortedHow = "ABOR (session kept open)"

// lookForBounds asks for passive ports in bursts (twice the range's size,
// at most 40) half a second apart until seen holds lo and hi or d has
// passed.
func lookForBounds(ctx context.Context, seen map[int]bool, lo, hi int, d time.Duration) {
	GinkgoHelper()
	p := Login(ctx)
	defer p.Quit(ctx)
	burst := min(2*(hi-lo+1), 40)
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		for i := 0; i < burst && len(missingBounds(seen, lo, hi)) > 0; i++ {
			pr := TryPassive(ctx, p, false)
			if !pr.OK() {
				return
			}
			seen[pr.EP.Port] = true
			PokePassive(ctx, p, pr.EP)
		}
		if len(missingBounds(seen, lo, hi)) == 0 {
			return
		}
	}
}

// missingBounds lists lo and hi where seen lacks them.
func missingBounds(seen map[int]bool, lo, hi int) []int {
	var out []int
	for _, p := range []int{lo, hi} {
		if !seen[p] {
			out = append(out, p)
		}
	}
	return out
}

// scanPassivePorts sends PASVs in one session (each poked, so servers that
// wait for a data connection go on) until both lo and hi were advertised
// or enough tries were made, adding each port to seen; it returns the
// number of PASVs.
func scanPassivePorts(ctx context.Context, seen map[int]bool, lo, hi int) int {
	GinkgoHelper()
	s := Login(ctx)
	defer s.Quit(ctx)
	tries := min(10*(hi-lo+1)+50, 400)
	n := 0
	for ; n < tries && !(seen[lo] && seen[hi]); n++ {
		pr := MustPassive(ctx, s, false)
		seen[pr.EP.Port] = true
		PokePassive(ctx, s, pr.EP)
	}
	return n
}

// listeningPorts returns the TCP ports in LISTEN state on this host, read
// from /proc/net/tcp and /proc/net/tcp6 (no connection is made, so a
// listener that would accept and close on contact is not disturbed).
func listeningPorts() (map[int]bool, error) {
	out := map[int]bool{}
	read := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		read++
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 4 || fs[3] != "0A" {
				continue
			}
			i := strings.LastIndexByte(fs[1], ':')
			if i < 0 {
				continue
			}
			if p, err := strconv.ParseInt(fs[1][i+1:], 16, 32); err == nil {
				out[int(p)] = true
			}
		}
	}
	if read == 0 {
		return nil, errors.New("cannot read /proc/net/tcp")
	}
	return out, nil
}

// openSessionPoolWaiting is OpenSessionPool that, while the server turns
// connections away with a 421 greeting (a client limit that may still count
// sessions of earlier checks it has not reaped yet), tops the pool up once
// a second for up to patience.
func openSessionPoolWaiting(ctx context.Context, n, parallel int, patience time.Duration) *SessionPool {
	GinkgoHelper()
	p := OpenSessionPool(ctx, n, parallel)
	deadline := time.Now().Add(patience)
	for len(p.Sessions) < n && GreetingRefused(p.Refused) && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		more := OpenSessionPool(ctx, n-len(p.Sessions), parallel)
		p.Sessions = append(p.Sessions, more.Sessions...)
		p.Refused = more.Refused
	}
	return p
}

// eachSession runs f on every session concurrently and waits; f must not call
// Expect (it runs off the spec goroutine): return values instead.
func eachSession(ss []*Session, f func(i int, s *Session)) {
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer GinkgoRecover()
			defer wg.Done()
			f(i, s)
		}()
	}
	wg.Wait()
}
