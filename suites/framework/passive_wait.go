package framework

// A passive setup refused for a reason that recovers (the suite itself
// emptied the pool: ports in TIME_WAIT, "Address already in use", 425) is
// retried within a bounded budget before the check is declared blocked
// (issue 17 §2); a refusal that stays names the check that judges it
// (issue 17 §1). Nothing waits unless a refusal happened.

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	. "github.com/onsi/ginkgo/v2"
)

// PassiveWaitPerSetup bounds how long one passive setup waits out a refusal
// that recovers: Linux keeps the port of a closed data connection in
// TIME_WAIT for 60 s, so a pool the suite emptied is whole again in ~70 s.
var PassiveWaitPerSetup = 70 * time.Second

// PassiveWaitBudget bounds the waiting in one test process that did not
// end in a recovered pool, so a server whose pool never recovers costs
// minutes, not hours: once it is spent, a refusal is reported (blocked) at
// once. A wait after which the setup succeeded is given back: a pool that
// recovers is waited for as often as the suite empties it (which check
// meets it then depends on the order, and verdicts must not).
var PassiveWaitBudget = 3 * time.Minute

// PassiveWaitCeiling bounds all waiting in one test process, recovered or
// not (a server that recovers only just before each wait would end).
var PassiveWaitCeiling = 8 * time.Minute

// PassiveWaitPerCheck bounds the waiting of one check, well inside its
// MaxSpecDuration, so a check with several setups is blocked rather than
// timed out.
var PassiveWaitPerCheck = 90 * time.Second

// checkWait is the waiting done by the running check.
var checkWait struct {
	sync.Mutex
	id    string
	spent time.Duration
}

// passiveFirstPause is the first pause between retries; it doubles up to
// passiveMaxPause (a recovered port is taken within seconds of recovering).
var (
	passiveFirstPause = 250 * time.Millisecond
	passiveMaxPause   = 5 * time.Second
)

// passiveWaitSpent is the waiting done so far in this process that did not
// end in a recovered pool, passiveWaitTotal all of it (ns).
var passiveWaitSpent, passiveWaitTotal atomic.Int64

// ExhaustionJudge is the check that judges a passive pool running dry
// (RANGE-007: more sequential transfers than the range has ports). It
// reports a refusal instead of waiting it out.
const ExhaustionJudge = "RANGE-007"

// MaxRangeTransfers is how many transfers RANGE-007 runs at most: a range
// of more than MaxRangeTransfers-5 ports is not exhausted by it (it skips),
// so it cannot be named as the blocker then.
const MaxRangeTransfers = 250

// poolRefusal matches the text of a passive refusal caused by a pool that
// is (for now) empty: the port is still bound, none is free.
var poolRefusal = regexp.MustCompile(`(?i)address already in use|eaddrinuse|in use|no (free|available|more) (passive )?ports?|exhaust|could not find any port|bind`)

// Recovers reports whether r refuses a passive setup for a reason that goes
// away by itself: 425/421 (no data connection can be opened now) or a text
// saying the port is in use or none is free.
func Recovers(r ftp.Reply) bool {
	if r.Code == 0 || r.Class() < 4 {
		return false
	}
	return r.Is(425, 421) || poolRefusal.MatchString(r.Text())
}

// passiveTry is what a passive setup came to.
type passiveTry struct {
	EP      ftp.Endpoint
	Reply   ftp.Reply // the last reply (Code 0 when none came)
	Err     error
	Refusal ftp.Reply // the last refusal that recovers, if any
	Tries   int
	Waited  time.Duration
	// First: no command that changes the data-connection state (an earlier
	// PASV/EPSV, PORT/EPRT, ABOR, REIN) came before on the session, so the
	// setup is the one PASV-001/EPSV-001 make and judge.
	First bool
}

// stateVerbs change what a following PASV/EPSV may get (RFC 959 §3.2,
// §4.1.1; RFC 2428 §4 EPSV ALL): after them a refusal can be the running
// check's own subject, not PASV-001's.
var stateVerbs = map[string]bool{"PASV": true, "EPSV": true, "PORT": true, "EPRT": true, "LPRT": true, "LPSV": true, "ABOR": true, "REIN": true}

// firstSetup reports whether entries hold no command of stateVerbs.
func firstSetup(entries []ftp.Entry) bool {
	for _, e := range entries {
		if e.Dir != ftp.Sent {
			continue
		}
		if f := strings.Fields(e.Text); len(f) > 0 && stateVerbs[strings.ToUpper(f[0])] {
			return false
		}
	}
	return true
}

// passiveWithWait sends PASV (EPSV) on c, each attempt bounded by timeout.
// When wait is set, a refusal that Recovers is retried with a growing pause
// while PassiveWaitPerSetup and the run's PassiveWaitBudget allow.
func passiveWithWait(ctx context.Context, c *ftp.Conn, epsv bool, timeout time.Duration, wait bool) passiveTry {
	t := passiveTry{First: firstSetup(c.Transcript().Entries())}
	pause := passiveFirstPause
	for {
		octx, cancel := context.WithTimeout(ctx, timeout)
		t.EP, t.Reply, t.Err = c.Passive(octx, epsv)
		cancel()
		t.Tries++
		if t.Err == nil {
			passiveWaitSpent.Add(-int64(t.Waited)) // recovered: given back
			return t
		}
		if !Recovers(t.Reply) {
			return t
		}
		t.Refusal = t.Reply
		NotePoolRanDry(t.Reply)
		if !wait {
			return t
		}
		d := takeWait(min(pause, PassiveWaitPerSetup-t.Waited))
		if d <= 0 {
			return t
		}
		c.Transcript().Notef("passive setup refused (%s): retrying in %s", t.Reply, d)
		select {
		case <-ctx.Done():
			return t
		case <-time.After(d):
		}
		t.Waited += d
		pause = min(2*pause, passiveMaxPause)
	}
}

// takeWait reserves up to d of the running check's and the run's waiting
// budgets and returns what it got (0 when either is spent).
func takeWait(d time.Duration) time.Duration {
	checkWait.Lock()
	defer checkWait.Unlock()
	if id := Running(); id != checkWait.id {
		checkWait.id, checkWait.spent = id, 0
	}
	d = min(d, PassiveWaitPerCheck-checkWait.spent,
		time.Duration(int64(PassiveWaitBudget)-passiveWaitSpent.Load()),
		time.Duration(int64(PassiveWaitCeiling)-passiveWaitTotal.Load()))
	if d <= 0 {
		return 0
	}
	// checkWait's lock serialises every reservation, so the loads above
	// stay true until these adds
	passiveWaitSpent.Add(int64(d))
	passiveWaitTotal.Add(int64(d))
	checkWait.spent += d
	return d
}

// exhaustionJudged reports whether RANGE-007 runs against this target (a
// range is declared and small enough for it to exhaust).
func exhaustionJudged() bool {
	r, ok := Config().PasvPorts()
	return ok && r.Size()+5 <= MaxRangeTransfers
}

// passiveBlocker names the check that judges a passive setup that failed
// as t did, and the evidence: a pool that stays exhausted is RANGE-007's
// (when it runs), an unparsable reply or a refusal of a session's first
// setup PASV-001's (EPSV-001's for EPSV). A refusal after other
// data-connection commands may be the running check's own subject: owner
// is "" then (the caller fails with the evidence, as before).
func passiveBlocker(epsv bool, t passiveTry) (owner, evidence string) {
	verb, want := "PASV", `227 with h1,h2,h3,h4,p1,p2 (each 0-255, port 1-65535) (RFC 959 §4.1.2, §5.4; RFC 1123 §4.1.2.6)`
	owner = "PASV-001"
	if epsv {
		verb, want = "EPSV", `229 with (<d><d><d>port<d>), one delimiter, port 1-65535 (RFC 2428 §3)`
		owner = "EPSV-001"
	}
	r := t.Reply
	if r.Code == 0 && t.Refusal.Code != 0 {
		r = t.Refusal
	}
	waited := ""
	if t.Waited > 0 {
		waited = fmt.Sprintf(", still after %d attempts over %s of waiting for the passive ports to recover", t.Tries, t.Waited.Round(time.Second))
	}
	if t.Reply.Code == 0 && t.Err != nil {
		waited += fmt.Sprintf("; then %v", t.Err)
	}
	var pe *ftp.ProtocolError
	switch {
	case Recovers(r) && exhaustionJudged():
		rng, _ := Config().PasvPorts()
		return ExhaustionJudge, fmt.Sprintf("%s answered %q%s: the declared passive range %s looks exhausted (ports of earlier transfers not yet reusable)", verb, r.Raw, waited, rng)
	case errors.As(t.Err, &pe):
		return owner, fmt.Sprintf("%s answered %q: %s; the rule wants %s", verb, r.Raw, pe.Msg, want)
	case !t.First:
		owner = ""
	}
	return owner, fmt.Sprintf("%s answered %q%s; the rule wants %s", verb, r.Raw, waited, want)
}

// passiveSetupFailed reports whether t ended in something passiveBlocker
// can name (a reply, or a refusal before the connection dropped) rather
// than a bare transport error.
func (t passiveTry) passiveSetupFailed() bool {
	return t.Err != nil && (t.Reply.Code != 0 || t.Refusal.Code != 0)
}

// PoolRecovery is how long after a passive pool ran dry its ports are
// reusable again: Linux keeps a closed connection's port in TIME_WAIT for
// 60 s, plus a margin.
var PoolRecovery = 65 * time.Second

// poolRanDry is when a passive setup last met a pool refusal that recovers
// (UnixNano; 0: never in this process).
var poolRanDry atomic.Int64

// NotePoolRanDry records that a passive setup was refused for a reason
// that recovers (Recovers) while no check was holding the pool on purpose:
// any check's ordinary setup, or RANGE-007's sequential transfers. The
// checks that hold every port themselves (RANGE-003/005/008) do not call
// it, so their own exhaustion makes no one wait.
func NotePoolRanDry(r ftp.Reply) {
	if Recovers(r) {
		poolRanDry.Store(time.Now().UnixNano())
	}
}

// AwaitPoolRecovery is for checks that judge how a server spreads its
// passive ports (RANGE-002/003/004): when the pool ran dry less than
// PoolRecovery ago, they see only the few ports that are free again and
// would misjudge the spread, so they first wait for the rest to come back
// (within the passive waiting budgets). It waits for nothing on a server
// whose pool never ran dry in this run.
func AwaitPoolRecovery(ctx context.Context) {
	GinkgoHelper()
	last := poolRanDry.Load()
	if last == 0 {
		return
	}
	d := time.Until(time.Unix(0, last).Add(PoolRecovery))
	if d <= 0 {
		return
	}
	got := takeWait(d)
	GinkgoWriter.Printf("the passive pool ran dry %s ago: waiting %s (of %s) for its ports to be reusable before judging how they are spread\n",
		time.Since(time.Unix(0, last)).Round(time.Second), got.Round(time.Second), d.Round(time.Second))
	select {
	case <-ctx.Done():
	case <-time.After(got):
	}
}

// AwaitTransfersCooled waits, once per run, PoolRecovery for passive ports
// the suite's own transfers may have left cooling (a server that cannot
// bind a port while a data connection it closed sits in TIME_WAIT hands
// out only the few others meanwhile), within the passive waiting budgets.
// A check calls it only when what it saw fits that (few distinct ports)
// and would otherwise fail; it reports whether it waited, so the check
// looks again. Later calls return false: one minute is enough for every
// port to recover, and a server that still shows the symptom has it.
func AwaitTransfersCooled(ctx context.Context) bool {
	GinkgoHelper()
	if !transfersCooledOnce.CompareAndSwap(false, true) {
		return false
	}
	got := takeWait(PoolRecovery)
	if got <= 0 {
		return false
	}
	GinkgoWriter.Printf("few distinct passive ports: waiting %s for ports cooling from earlier transfers, then looking again\n", got.Round(time.Second))
	select {
	case <-ctx.Done():
		return false
	case <-time.After(got):
	}
	return true
}

var transfersCooledOnce atomic.Bool
