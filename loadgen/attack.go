package loadgen

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ftpharness/ftpharness/target"

	"golang.org/x/sync/errgroup"
)

// Scenarios.
const (
	Exhaust = "exhaust"
	Churn   = "churn"
	Retr    = "retr"
	Stor    = "stor"
	Mixed   = "mixed"
)

// Scenarios lists the scenario names.
var Scenarios = []string{Exhaust, Churn, Retr, Stor, Mixed}

// Defaults for options left unset.
var (
	DefaultSessions        = 4
	DefaultDuration        = 10 * time.Second
	DefaultTimeout         = 10 * time.Second
	DefaultChurnSize       = int64(100)
	DefaultTransferSize    = int64(10 << 20)
	DefaultMaxSessions     = 2000 // exhaust, when no range is declared
	DefaultMaxOverRange    = 10   // exhaust: sessions tried beyond the declared range
	DefaultRampConcurrency = 16   // exhaust: logins in flight while ramping
	DefaultRecoveryTimeout = 10 * time.Second
	DefaultProbeInterval   = 10 * time.Millisecond
	DefaultMix             = Mix{{"retr", 4}, {"list", 2}, {"cwd", 1}, {"pwd", 1}, {"noop", 2}}
)

// MixEntry is one weighted operation of the mixed scenario.
type MixEntry struct {
	Op     string // retr, list, stor, cwd, pwd, noop
	Weight int
}

// Mix is a weighted operation mix.
type Mix []MixEntry

func (m Mix) String() string {
	var parts []string
	for _, e := range m {
		parts = append(parts, e.Op+"="+strconv.Itoa(e.Weight))
	}
	return strings.Join(parts, ",")
}

// ParseMix reads "retr=4,list=2,noop=1".
func ParseMix(s string) (Mix, error) {
	var m Mix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		op, w, ok := strings.Cut(part, "=")
		if !ok {
			w = "1"
		}
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("mix: bad weight in %q", part)
		}
		switch op {
		case "retr", "list", "stor", "cwd", "pwd", "noop":
		default:
			return nil, fmt.Errorf("mix: unknown operation %q (retr, list, stor, cwd, pwd, noop)", op)
		}
		m = append(m, MixEntry{op, n})
	}
	if m.total() == 0 {
		return nil, fmt.Errorf("mix: no operation has a weight")
	}
	return m, nil
}

func (m Mix) total() int {
	t := 0
	for _, e := range m {
		t += e.Weight
	}
	return t
}

func (m Mix) pick(r *rand.Rand) string {
	n := r.IntN(m.total())
	for _, e := range m {
		if n < e.Weight {
			return e.Op
		}
		n -= e.Weight
	}
	return m[len(m)-1].Op
}

// ParseSources reads "127.0.0.2-127.0.0.9" or a comma list of addresses
// and ranges (IPv4 ranges vary the last octet... or any octets).
func ParseSources(s string) ([]net.IP, error) {
	var out []net.IP
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, b, isRange := strings.Cut(part, "-")
		lo := net.ParseIP(strings.TrimSpace(a))
		if lo == nil {
			return nil, fmt.Errorf("bad source address %q", a)
		}
		if !isRange {
			out = append(out, lo)
			continue
		}
		hi := net.ParseIP(strings.TrimSpace(b))
		l4, h4 := lo.To4(), hi.To4()
		if l4 == nil || h4 == nil {
			return nil, fmt.Errorf("bad source range %q (IPv4 only)", part)
		}
		from, to := ipU32(l4), ipU32(h4)
		if to < from || to-from > 65535 {
			return nil, fmt.Errorf("bad source range %q", part)
		}
		for v := from; ; v++ {
			out = append(out, net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).To4())
			if v == to {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no source address in %q", s)
	}
	return out, nil
}

func ipU32(ip net.IP) uint32 {
	return uint32(ip[0])<<24 | uint32(ip[1])<<16 | uint32(ip[2])<<8 | uint32(ip[3])
}

// Clock is the time source (a fake one makes pacing testable).
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Option configures an Attacker.
type Option func(*Attacker)

// WithSessions sets the number of concurrent sessions (closed loop), the
// session pool's size (open loop) or the logins in flight (exhaust).
func WithSessions(n int) Option { return func(a *Attacker) { a.sessions = n } }

// WithRate switches to open loop: operations start at rate per second
// whether or not earlier ones finished (exhaust: sessions started per
// second while ramping).
func WithRate(perSecond float64) Option { return func(a *Attacker) { a.rate = perSecond } }

// WithDuration bounds the run (0: DefaultDuration).
func WithDuration(d time.Duration) Option { return func(a *Attacker) { a.duration = d } }

// WithCount bounds the number of operations (exhaust: sessions).
func WithCount(n int) Option { return func(a *Attacker) { a.count = n } }

// WithTimeout bounds every network step.
func WithTimeout(d time.Duration) Option { return func(a *Attacker) { a.timeout = d } }

// WithEPSV uses EPSV instead of PASV.
func WithEPSV(on bool) Option { return func(a *Attacker) { a.epsv = on } }

// WithPasvRange declares the server's passive range (out-of-range checks,
// exhaust's capacity).
func WithPasvRange(r target.Range) Option { return func(a *Attacker) { a.pasvRange = r } }

// WithPasvAddress sets the address PASV replies should advertise (default:
// the control connection's peer).
func WithPasvAddress(ip net.IP) Option { return func(a *Attacker) { a.pasvAddr = ip } }

// WithStrictAddress makes a PASV reply whose address is not the control
// peer's a failure (address-mismatch) instead of a data connection to the
// control peer with the advertised port; nothing is dialled for it unless
// WithRemoteData.
func WithStrictAddress(on bool) Option { return func(a *Attacker) { a.strict = on } }

// WithRemoteData lets strict mode dial an advertised data address that is
// not the control peer's: the user takes responsibility for where a
// server sends the generator's connections.
func WithRemoteData(on bool) Option { return func(a *Attacker) { a.remoteData = on } }

// WithSources spreads sessions over these local source addresses; each
// session's data connections are bound to its address.
func WithSources(ips []net.IP) Option { return func(a *Attacker) { a.sources = ips } }

// WithSize sets the file size for RETR/STOR.
func WithSize(n int64) Option { return func(a *Attacker) { a.size = n } }

// WithFile names the file to RETR (default: one ftpload uploads first).
func WithFile(name string) Option { return func(a *Attacker) { a.file = name } }

// WithList makes churn use LIST instead of RETR.
func WithList(on bool) Option { return func(a *Attacker) { a.list = on } }

// WithMix sets the mixed scenario's weighted operations.
func WithMix(m Mix) Option { return func(a *Attacker) { a.mix = m } }

// WithThink sets the pause between operations of a session (closed loop).
func WithThink(d time.Duration) Option { return func(a *Attacker) { a.think = d } }

// WithRecoveryTimeout bounds exhaust's wait for a working PASV after release.
func WithRecoveryTimeout(d time.Duration) Option { return func(a *Attacker) { a.recovery = d } }

// WithShard makes the attacker run shard s of a run split over s.Count
// generators: the sessions, count and rate given (the run's totals) are
// divided (Shard.Share, Shard.ShareRate; exhaust's default count too), the
// sources sliced (Shard.Sources) and the seed offset by the index
// (Shard.Seed; a sharded run is always seeded). Prepare and Attack report
// a share that cannot be made (fewer sessions, count or sources than
// shards).
func WithShard(s Shard) Option { return func(a *Attacker) { a.shard = s } }

// WithSeed seeds the random choices (the mixed scenario's operations):
// session i of a run with seed S draws from PCG(i+1, S). Without a seed
// an unsharded run seeds from its start time.
func WithSeed(seed uint64) Option { return func(a *Attacker) { a.seed, a.seeded = seed, true } }

// WithTLSResume says whether the TLS data connections of an FTPS target
// resume the control connection's TLS session (default true; false: a
// full handshake each, ftp.DataOptions.NoResume).
func WithTLSResume(on bool) Option { return func(a *Attacker) { a.tlsNoResume = !on } }

// WithClock replaces the real clock (tests).
func WithClock(c Clock) Option { return func(a *Attacker) { a.clock = c } }

// Attacker runs scenarios against one target.
type Attacker struct {
	target   target.Config
	sessions int
	rate     float64
	duration time.Duration
	count    int
	timeout  time.Duration
	epsv     bool
	strict   bool
	list     bool
	pasvAddr net.IP
	sources  []net.IP
	size     int64
	file     string
	mix      Mix
	think    time.Duration
	recovery time.Duration
	clock    Clock

	remoteData bool // strict may dial an advertised address other than the control peer

	shard  Shard
	seed   uint64
	seeded bool
	err    error // a configuration that cannot run (a shard share)

	pasvRange target.Range

	tls         *tls.Config // FTPS (from the target): nil for plain FTP
	tlsNoResume bool        // data handshakes do not resume the control session

	hardCtx  context.Context
	hardStop context.CancelFunc

	// live counters for progress displays
	ops, errs, bytes, active, held atomic.Int64
	banner                         atomic.Value // string

	newDriver func(a *Attacker, idx int) driver // tests replace the FTP session

	current string // scenario being run

	// what this run created on the server, for Cleanup
	uploaded string                        // the RETR file Prepare uploaded
	stored   atomic.Pointer[[]atomic.Bool] // per session: sent a STOR
}

// NewAttacker returns an Attacker for t with opts applied over the defaults.
func NewAttacker(t target.Config, opts ...Option) *Attacker {
	a := &Attacker{target: t, clock: realClock{}}
	for _, o := range opts {
		o(a)
	}
	// RFC 2428 §1: a 227 has room for an IPv4 address only, so over an
	// IPv6 control connection every scenario sets up its data
	// connections with EPSV.
	if ip := net.ParseIP(t.Host()); ip != nil && ip.To4() == nil {
		a.epsv = true
	}
	if a.sessions <= 0 {
		a.sessions = DefaultSessions
	}
	if a.duration <= 0 {
		a.duration = DefaultDuration
	}
	if a.timeout <= 0 {
		a.timeout = DefaultTimeout
	}
	if a.recovery <= 0 {
		a.recovery = DefaultRecoveryTimeout
	}
	if len(a.mix) == 0 {
		a.mix = DefaultMix
	}
	if a.clock == nil {
		a.clock = realClock{}
	}
	a.hardCtx, a.hardStop = context.WithCancel(context.Background())
	a.newDriver = newFTPDriver
	a.setupTLS()
	a.applyShard()
	return a
}

// applyShard turns the totals into shard a.shard's share.
func (a *Attacker) applyShard() {
	s := a.shard
	if !s.Set() {
		return
	}
	if err := s.Validate(); err != nil {
		a.err = err
		return
	}
	a.seed, a.seeded = s.Seed(a.seed), true
	if a.sessions < s.Count {
		a.err = fmt.Errorf("shard %s: %d sessions cannot be split over %d shards (want at least one each)", s, a.sessions, s.Count)
		return
	}
	a.sessions = s.Share(a.sessions)
	if a.count > 0 {
		if a.count < s.Count {
			a.err = fmt.Errorf("shard %s: a count of %d cannot be split over %d shards", s, a.count, s.Count)
			return
		}
		a.count = s.Share(a.count)
	}
	if a.rate > 0 {
		a.rate = s.ShareRate(a.rate)
		if a.rate <= 0 {
			a.err = fmt.Errorf("shard %s: the rate cannot be split over %d shards (give at least %d/s)", s, s.Count, s.Count)
			return
		}
	}
	src, err := s.Sources(a.sources)
	if err != nil {
		a.err = fmt.Errorf("shard %s: %v", s, err)
		return
	}
	a.sources = src
}

// Err reports a configuration the attacker cannot run (Prepare and Attack
// return it too).
func (a *Attacker) Err() error { return a.err }

// Shard is the attacker's shard (zero when the run is not sharded).
func (a *Attacker) Shard() Shard { return a.shard }

// Stats is a snapshot of the live counters.
type Stats struct {
	Ops, Errors, Bytes int64
	Active, Held       int64
}

// Stats returns the live counters (safe while running).
func (a *Attacker) Stats() Stats {
	return Stats{a.ops.Load(), a.errs.Load(), a.bytes.Load(), a.active.Load(), a.held.Load()}
}

// Banner is the server's greeting seen by the first session.
func (a *Attacker) Banner() string {
	s, _ := a.banner.Load().(string)
	return s
}

// Abort interrupts operations in flight (Attack's ctx only stops new ones).
func (a *Attacker) Abort() { a.hardStop() }

// Size is the effective transfer size for scenario.
func (a *Attacker) Size(scenario string) int64 {
	if a.size > 0 {
		return a.size
	}
	if scenario == Churn || scenario == Mixed {
		return DefaultChurnSize
	}
	return DefaultTransferSize
}

// File is the file RETR reads.
func (a *Attacker) File(scenario string) string {
	if a.file != "" {
		return a.file
	}
	return fmt.Sprintf("ftpload-%d.bin", a.Size(scenario))
}

// Settings describes the attacker's configuration for a report.
func (a *Attacker) Settings(scenario string) Settings {
	s := Settings{
		Scenario:  scenario,
		Target:    a.target.Addr,
		User:      a.target.User,
		Banner:    a.Banner(),
		PasvRange: a.pasvRange.String(),
		EPSV:      a.epsv,
		Model:     "closed",
		Sessions:  a.sessions,
		Rate:      a.rate,
		Duration:  a.duration.Seconds(),
		Count:     a.count,
		Timeout:   a.timeout.Seconds(),
	}
	if a.shard.Set() {
		sh := a.shard
		s.Shard = &sh
	}
	s.TLS = a.tlsSettings()
	if a.seeded {
		seed := a.seed
		s.Seed = &seed
	}
	if a.rate > 0 {
		s.Model = "open"
	}
	for _, ip := range a.sources {
		s.Sources = append(s.Sources, ip.String())
	}
	switch scenario {
	case Retr, Stor, Churn, Mixed:
		s.Size = a.Size(scenario)
		if scenario != Stor && !(scenario == Churn && a.list) {
			s.File = a.File(scenario)
		}
	}
	if scenario == Mixed {
		s.Mix = a.mix.String()
		s.Think = a.think.Seconds()
	}
	if scenario == Exhaust {
		s.Count = a.maxSessions()
	}
	return s
}

func (a *Attacker) source(idx int) net.IP {
	if len(a.sources) == 0 {
		return nil
	}
	return a.sources[idx%len(a.sources)]
}

// Attack runs scenario and streams its results; the channel closes when
// the run is over. Cancelling ctx stops starting new work; operations in
// flight finish (each bounded by the timeout) unless Abort is called.
func (a *Attacker) Attack(ctx context.Context, scenario string) (<-chan *Result, error) {
	if a.err != nil {
		return nil, a.err
	}
	switch scenario {
	case Exhaust, Churn, Retr, Stor, Mixed:
	default:
		return nil, fmt.Errorf("unknown scenario %q (known: %s)", scenario, strings.Join(Scenarios, ", "))
	}
	if scenario == Mixed {
		if err := a.mixOK(); err != nil {
			return nil, err
		}
	}
	a.current = scenario
	out := make(chan *Result, 1024)
	go func() {
		defer close(out)
		if scenario == Exhaust {
			a.exhaust(ctx, out)
			return
		}
		a.loop(ctx, scenario, out)
	}()
	return out, nil
}

func (a *Attacker) mixOK() error {
	if a.mix.total() <= 0 {
		return fmt.Errorf("mixed: empty mix")
	}
	return nil
}

// emit sends r, keeping the live counters.
func (a *Attacker) emit(out chan<- *Result, r *Result) {
	if r.Op != "login" && r.Op != "hold" && r.Op != "recover" {
		a.ops.Add(1)
	}
	if !r.OK() {
		a.errs.Add(1)
	}
	a.bytes.Add(r.Bytes)
	if r.Class == ClassTimeout && a.hardCtx.Err() != nil {
		r.Class = ClassCanceled
	}
	out <- r
}

// driver is one session of a loop scenario.
type driver interface {
	alive() bool
	open(ctx context.Context) *Result // connect + login; always returns a result
	do(ctx context.Context, op string) *Result
	close()
}

// loop runs the churn/retr/stor/mixed scenarios: sessions workers, each
// owning one FTP session, in closed loop or paced by an open-loop ticker.
func (a *Attacker) loop(ctx context.Context, scenario string, out chan<- *Result) {
	stopCtx, cancel := context.WithTimeout(ctx, a.duration)
	defer cancel()
	l := &loopRun{a: a, scenario: scenario, out: out, stop: stopCtx, start: a.clock.Now()}
	l.remaining.Store(int64(a.count))
	a.resetStored(a.sessions)

	var pacerDone sync.WaitGroup
	if a.rate > 0 {
		l.ticks = make(chan time.Time)
		pacerDone.Add(1)
		go func() {
			defer pacerDone.Done()
			l.pace()
		}()
	}

	var g errgroup.Group
	g.SetLimit(a.sessions)
	for i := 0; i < a.sessions; i++ {
		idx := i
		g.Go(func() error {
			l.session(idx)
			return nil
		})
	}
	g.Wait()
	cancel()
	pacerDone.Wait()
}

// loopRun is the state one loop shares between its pacer and its sessions.
type loopRun struct {
	a         *Attacker
	scenario  string
	out       chan<- *Result
	stop      context.Context // the run's duration, or its cancellation
	start     time.Time
	remaining atomic.Int64   // operations left to start when a count is set
	ticks     chan time.Time // open loop: the intended start of each operation
}

// take claims one operation of the count; always true without a count.
func (l *loopRun) take() bool {
	if l.a.count <= 0 {
		return true
	}
	return l.remaining.Add(-1) >= 0
}

// pace sends the intended start of each operation on ticks, at the
// open-loop rate, until the count or the run ends; then closes ticks.
func (l *loopRun) pace() {
	a := l.a
	defer close(l.ticks)
	interval := time.Duration(float64(time.Second) / a.rate)
	for i := int64(0); ; i++ {
		if !l.take() {
			return
		}
		intended := l.start.Add(time.Duration(i) * interval)
		if wait := intended.Sub(a.clock.Now()); wait > 0 {
			if a.clock.Sleep(l.stop, wait) != nil {
				return
			}
		}
		select {
		case l.ticks <- intended:
		case <-l.stop.Done():
			return
		}
	}
}

// next waits for the next operation a session may start: its intended
// start in open loop (zero in closed loop), false when the run is over.
func (l *loopRun) next() (time.Time, bool) {
	if l.ticks != nil {
		t, ok := <-l.ticks
		return t, ok
	}
	if l.stop.Err() != nil || !l.take() {
		return time.Time{}, false
	}
	return time.Time{}, true
}

// loopSession is one worker of a loop: one FTP session, reopened when lost.
type loopSession struct {
	*loopRun
	idx   int
	d     driver
	rng   *rand.Rand
	fails int // consecutive failed logins
}

// session runs worker idx until the run is over.
func (l *loopRun) session(idx int) {
	a := l.a
	s := &loopSession{loopRun: l, idx: idx, d: a.newDriver(a, idx)}
	defer func() {
		if s.d.alive() {
			a.active.Add(-1)
		}
		s.d.close()
	}()
	seed := uint64(l.start.UnixNano())
	if a.seeded {
		seed = a.seed
	}
	s.rng = rand.New(rand.NewPCG(uint64(idx)+1, seed))
	for {
		intended, ok := l.next()
		if !ok {
			return
		}
		if !s.d.alive() && !s.open(intended) {
			continue
		}
		s.do(intended, s.pickOp())
	}
}

// open connects and logs in, reporting whether the session is open. In
// closed loop it backs off from a refusing server.
func (s *loopSession) open(intended time.Time) bool {
	a := s.a
	r := s.d.open(a.hardCtx)
	r.Session, r.Intended = s.idx, intended
	if r.Intended.IsZero() {
		r.Intended = r.Start
	}
	if r.OK() {
		s.fails = 0
		r.Active = int(a.active.Add(1))
	} else {
		r.Active = int(a.active.Load())
	}
	a.emit(s.out, r)
	if !r.OK() {
		s.fails++
		if s.ticks == nil { // closed loop: back off from a refusing server
			a.clock.Sleep(s.stop, time.Duration(min(s.fails, 20))*10*time.Millisecond)
		}
		return false
	}
	return true
}

// pickOp is the scenario's next operation.
func (s *loopSession) pickOp() string {
	op := s.scenario
	switch s.scenario {
	case Churn:
		op = "retr"
		if s.a.list {
			op = "list"
		}
	case Mixed:
		op = s.a.mix.pick(s.rng)
	}
	return op
}

// do runs op on the open session and reports it; in closed loop it then
// waits the think time.
func (s *loopSession) do(intended time.Time, op string) {
	a := s.a
	r := s.d.do(a.hardCtx, op)
	r.Session = s.idx
	r.Intended = intended
	if r.Intended.IsZero() {
		r.Intended = r.Start
	}
	if !s.d.alive() {
		a.active.Add(-1)
	}
	r.Active = int(a.active.Load())
	a.emit(s.out, r)
	if a.think > 0 && s.ticks == nil {
		a.clock.Sleep(s.stop, a.think)
	}
}
