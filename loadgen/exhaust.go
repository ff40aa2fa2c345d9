package loadgen

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"golang.org/x/sync/errgroup"
)

// Exhaust failure modes (ExhaustSummary.FailureMode).
const (
	ModeReply4xx     = "reply-4xx"
	ModeReply5xx     = "reply-5xx"
	ModeOutOfRange   = "out-of-range"
	ModeDropped      = "session-dropped"
	ModeTimeout      = "timeout"
	ModeAddrMismatch = "address-mismatch"
	ModeNone         = "none"
)

// FailureModes is the fixed vocabulary of exhaust failure modes.
var FailureModes = []string{ModeReply4xx, ModeReply5xx, ModeOutOfRange, ModeDropped, ModeTimeout, ModeAddrMismatch}

// modeOf maps an error class to an exhaust failure mode ("" for a
// client-side limit, which is not the server's failure).
func modeOf(c ErrorClass) string {
	switch c {
	case ClassReply4xx:
		return ModeReply4xx
	case ClassReply5xx:
		return ModeReply5xx
	case ClassOutOfRange:
		return ModeOutOfRange
	case ClassAddrMismatch:
		return ModeAddrMismatch
	case ClassTimeout:
		return ModeTimeout
	case ClassClientAddrLimit, ClassClientFDLimit, ClassCanceled:
		return ""
	}
	// refused, reset, EOF, a protocol violation, an unexpected reply: the
	// server stopped serving the session properly
	return ModeDropped
}

func (a *Attacker) maxSessions() int {
	if a.count > 0 {
		return a.count
	}
	total := DefaultMaxSessions
	if a.pasvRange.Set() {
		total = a.pasvRange.Size() + DefaultMaxOverRange
	}
	// the default is the whole run's: a shard tries its share of it
	return max(a.shard.Share(total), 1)
}

// held is one session holding a passive listener it never connects to.
type held struct {
	c    *ctrl
	port int
}

// exhaust ramps sessions that each log in and send PASV/EPSV without ever
// connecting, until the server first refuses or misbehaves; then it checks
// the failing and the held sessions, releases them all, and measures the
// time until a fresh session's PASV works in range again.
func (a *Attacker) exhaust(ctx context.Context, out chan<- *Result) {
	sum := &ExhaustSummary{
		DeclaredRange: a.pasvRange.String(),
		RangeSize:     a.pasvRange.Size(),
		MaxSessions:   a.maxSessions(),
		FailureMode:   ModeNone,
	}
	defer func() { out <- &Result{Op: "exhaust-summary", Exhaust: sum} }()
	if host, _, err := net.SplitHostPort(a.target.Addr); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			sum.BusyBefore = listeningIn(a.pasvRange)
		}
	}

	rampCtx, cancel := context.WithTimeout(ctx, a.duration)
	defer cancel()
	stop, stopRamp := context.WithCancel(rampCtx)
	defer stopRamp()

	rp := &exhaustRamp{a: a, out: out, sum: sum, stopRamp: stopRamp, start: time.Now()}
	rp.run(stop)
	sum.Attempts = rp.attempts
	rp.summarize(ctx, rampCtx)
	rp.checkFailing()
	rp.checkHeld()

	// Release everything, then probe until a PASV works in range again.
	for _, h := range rp.holds {
		h.c.close()
	}
	a.held.Store(0)
	released := time.Now()
	if a.hardCtx.Err() != nil {
		sum.RecoveryLast = "aborted"
		return
	}
	a.recover(sum, released, out)
}

// exhaustRamp is the state of exhaust's ramp, shared by its sessions under
// mu while it runs.
type exhaustRamp struct {
	a        *Attacker
	out      chan<- *Result
	sum      *ExhaustSummary
	stopRamp context.CancelFunc // ends the ramp: a failure or a client limit
	start    time.Time

	mu        sync.Mutex
	attempts  int
	holds     []held
	failed    bool
	failedC   *ctrl // the failing session, kept for the survival check
	clientLim string
	baseAddr  net.IP // the address the first held session was given
}

// run opens sessions at the configured rate and concurrency until stop
// ends or the maximum number of sessions is reached, and waits for them.
func (rp *exhaustRamp) run(stop context.Context) {
	a := rp.a
	conc := a.sessions
	if conc <= 0 {
		conc = DefaultRampConcurrency
	}
	var interval time.Duration
	if a.rate > 0 {
		interval = time.Duration(float64(time.Second) / a.rate)
	}

	var g errgroup.Group
	g.SetLimit(conc)
ramp:
	for i := 0; i < rp.sum.MaxSessions; i++ {
		if interval > 0 {
			if wait := time.Until(rp.start.Add(time.Duration(i) * interval)); wait > 0 {
				if a.clock.Sleep(stop, wait) != nil {
					break ramp
				}
			}
		}
		if stop.Err() != nil {
			break
		}
		// g.Go blocks while conc sessions are in flight; check again after
		idx := i
		g.Go(func() error {
			if stop.Err() != nil {
				return nil
			}
			rp.mu.Lock()
			rp.attempts++
			rp.mu.Unlock()
			r, c, ep := a.holdOne(idx)
			rp.mu.Lock()
			defer rp.mu.Unlock()
			rp.settle(r, c, ep)
			return nil
		})
	}
	g.Wait()
}

// settle records the outcome of one ramp session: held, a client-side
// limit, or the server's first failure. Called with mu held.
func (rp *exhaustRamp) settle(r *Result, c *ctrl, ep ftp.Endpoint) {
	a := rp.a
	rp.checkAddr(r, ep)
	if r.OK() {
		rp.holds = append(rp.holds, held{c: c, port: ep.Port})
		r.Active = int(a.held.Add(1))
		a.emit(rp.out, r)
		return
	}
	r.Active = int(a.held.Load())
	a.emit(rp.out, r)
	mode := modeOf(r.Class)
	if r.Class == ClassOutOfRange || r.Class == ClassAddrMismatch {
		// the listener exists: hold it too so it is released with the rest
		rp.holds = append(rp.holds, held{c: c, port: ep.Port})
		c = nil
	}
	if mode == "" {
		if r.Class != ClassCanceled && rp.clientLim == "" {
			rp.clientLim = string(r.Class) + ": " + r.Err
		}
		if c != nil {
			c.close()
		}
		rp.stopRamp()
		return
	}
	if rp.failed {
		if c != nil {
			c.close()
		}
		return
	}
	rp.fail(r, mode, c)
}

// checkAddr notes the first PASV address and fails a successful PASV that
// advertises another (unless the address is overridden, or EPSV is used).
func (rp *exhaustRamp) checkAddr(r *Result, ep ftp.Endpoint) {
	a := rp.a
	if r.OK() && rp.baseAddr == nil && ep.IP != nil && !a.epsv {
		rp.baseAddr = ep.IP
	}
	if r.OK() && !a.epsv && ep.IP != nil && rp.baseAddr != nil && !ep.IP.Equal(rp.baseAddr) && a.pasvAddr == nil {
		r.Class, r.FailedPhase, r.Err = ClassAddrMismatch, PhasePasv, "advertised "+ep.IP.String()+", earlier sessions got "+rp.baseAddr.String()
	}
}

// fail records the server's first failure, r in failure mode mode, stops
// the ramp and keeps the failing session c for the survival check.
func (rp *exhaustRamp) fail(r *Result, mode string, c *ctrl) {
	sum := rp.sum
	rp.failed = true
	rp.stopRamp()
	sum.TimeToExhaust = time.Since(rp.start).Seconds()
	sum.FailureMode = mode
	sum.FailurePhase = r.FailedPhase.String()
	sum.FailureCode = r.Code
	sum.FailureReply = r.Reply
	sum.FailureError = r.Err
	if r.Class == ClassOutOfRange {
		sum.FailurePort = r.Port
		sum.FailureReply = r.Reply
	}
	rp.failedC = c
}

// summarize records how the ramp ended: capacity, what stopped it and when.
func (rp *exhaustRamp) summarize(ctx, rampCtx context.Context) {
	sum := rp.sum
	sum.Capacity = rp.capacity()
	switch {
	case rp.failed:
		sum.StoppedBy = "failure"
		sum.CapacityReached = true
	case rp.clientLim != "":
		sum.StoppedBy = "client-limit"
	case ctx.Err() != nil:
		sum.StoppedBy = "canceled"
	case rampCtx.Err() != nil:
		sum.StoppedBy = "duration"
	default:
		sum.StoppedBy = "max-sessions"
	}
	sum.ClientLimit = rp.clientLim
	if !rp.failed {
		sum.TimeToExhaust = time.Since(rp.start).Seconds()
	}
	sum.Banner = rp.a.Banner()
}

// capacity counts the held listeners in the declared range.
func (rp *exhaustRamp) capacity() int {
	a := rp.a
	inRange := 0
	for _, h := range rp.holds {
		if a.pasvRange.Contains(h.port) {
			inRange++
		}
	}
	if a.pasvRange.Set() {
		// out-of-range listeners are not capacity
		inRange = 0
		for _, h := range rp.holds {
			if h.port >= a.pasvRange.Lo && h.port <= a.pasvRange.Hi {
				inRange++
			}
		}
	}
	return inRange
}

// checkFailing asks whether the failing session survives (vsftpd's dies,
// ftpserverlib's keeps answering), then closes it. Only meaningful for a
// refused PASV.
func (rp *exhaustRamp) checkFailing() {
	if rp.failedC == nil {
		return
	}
	alive, rep := noopAlive(rp.failedC, time.Second)
	rp.sum.SessionSurvive = &alive
	rp.sum.SurviveReply = rep
	rp.failedC.close()
}

// checkHeld counts, after a failure, the held sessions still answering.
func (rp *exhaustRamp) checkHeld() {
	if !rp.failed || rp.a.hardCtx.Err() != nil {
		return
	}
	var cg errgroup.Group
	cg.SetLimit(64)
	var alive, checked int
	var cmu sync.Mutex
	for _, h := range rp.holds {
		h := h
		cg.Go(func() error {
			ok, _ := noopAlive(h.c, 2*time.Second)
			cmu.Lock()
			checked++
			if ok {
				alive++
			}
			cmu.Unlock()
			return nil
		})
	}
	cg.Wait()
	rp.sum.HeldChecked, rp.sum.HeldAlive = checked, alive
}

// noopAlive sends NOOP and reports whether the session answered 2xx.
func noopAlive(c *ctrl, timeout time.Duration) (bool, string) {
	old := c.c.Timeout()
	c.c.SetTimeout(timeout)
	defer c.c.SetTimeout(old)
	r, err := c.cmd("NOOP")
	if err != nil {
		if len(r.Raw) > 0 {
			return false, replyLine(r)
		}
		return false, string(Classify(err).Class) + ": " + err.Error()
	}
	return r.Code/100 == 2, replyLine(r)
}

// holdOne opens session idx: connect, greeting, login, PASV/EPSV. On
// success (and for an out-of-range or mismatched endpoint) it returns the
// open control connection.
func (a *Attacker) holdOne(idx int) (*Result, *ctrl, ftp.Endpoint) {
	d := &ftpDriver{a: a, idx: idx, src: a.source(idx)}
	r := d.open(a.hardCtx)
	r.Op = "hold"
	r.Session = idx
	r.Intended = r.Start
	if !r.OK() {
		return r, nil, ftp.Endpoint{}
	}
	c := d.c
	t0 := time.Now()
	ep, rep, err := c.passive(a.epsv)
	r.End = time.Now()
	r.SetPhase(PhasePasv, r.End.Sub(t0))
	if err != nil {
		r.fail(PhasePasv, err)
		if r.Reply == "" && len(rep.Raw) > 0 {
			r.Reply = replyLine(rep)
		}
		var re *ftp.ReplyError
		if errors.As(err, &re) {
			return r, c, ep // the session may survive: keep it for the check
		}
		c.close()
		return r, nil, ep
	}
	d.checkEndpoint(ep, r)
	if r.OutOfRange {
		r.Class, r.FailedPhase = ClassOutOfRange, PhasePasv
		r.Reply = replyLine(rep)
		r.Err = "advertised port " + itoa(ep.Port) + " outside the declared range " + a.pasvRange.String()
	}
	return r, c, ep
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// recover probes until a PASV returns an in-range port, bounded by the
// recovery timeout. Every probe is a fresh session (connect, login, PASV):
// some servers never recover a session whose PASV once failed (twisted),
// and the question is when the server serves new passive requests again.
func (a *Attacker) recover(sum *ExhaustSummary, released time.Time, out chan<- *Result) {
	deadline := released.Add(a.recovery)
	for time.Now().Before(deadline) && a.hardCtx.Err() == nil {
		sum.RecoveryAttempts++
		d := &ftpDriver{a: a, src: a.source(0)}
		r := d.open(a.hardCtx)
		r.Op = "recover"
		r.Intended = r.Start
		if !r.OK() {
			sum.RecoveryLast = r.FailedPhase.String() + ": " + firstNonEmpty(r.Reply, r.Err)
			a.emit(out, r)
			a.clock.Sleep(a.hardCtx, DefaultProbeInterval)
			continue
		}
		c := d.c
		t0 := time.Now()
		ep, rep, err := c.passive(a.epsv)
		r.End = time.Now()
		r.SetPhase(PhasePasv, r.End.Sub(t0))
		if err == nil {
			r.Port = ep.Port
			if a.pasvRange.Contains(ep.Port) {
				sum.Recovered = true
				sum.RecoveryTime = r.End.Sub(released).Seconds()
				a.emit(out, r)
				c.send("QUIT")
				c.close()
				return
			}
			r.OutOfRange = true
			r.Class, r.FailedPhase, r.Err = ClassOutOfRange, PhasePasv, "port "+itoa(ep.Port)+" outside "+a.pasvRange.String()
			sum.RecoveryLast = replyLine(rep)
		} else {
			r.fail(PhasePasv, err)
			sum.RecoveryLast = "pasv: " + firstNonEmpty(r.Reply, r.Err)
		}
		c.close()
		a.emit(out, r)
		a.clock.Sleep(a.hardCtx, DefaultProbeInterval)
	}
	sum.RecoveryTime = -1
}
