package faulty

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/target"
)

// Proxy is a running fault-injecting FTP proxy.
type Proxy struct {
	upstream   string
	cfg        config
	tls        *tlsSetup   // nil: cleartext only
	srvCfg     *tls.Config // towards clients, under the faults (tls.go)
	b          behaviour
	ln         net.Listener
	lo, hi     int // the proxy's passive range
	lease      *lease
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	mu         sync.Mutex
	ports      map[int]*plistener // passive listeners by port
	sessions   map[*session]bool
	nextSeq    int
	nextID     int
	gen        uint64 // binding generation (sync ignores bindings newer than its probe)
	closed     bool
	closeOnce  sync.Once
	lowCursor  int
	extraAddrs []string
	// pasv-port-shift: the "container-side" ports advertised instead of
	// the proxy's (reserved, never listened on)
	shadowLo    int
	shadowLease *lease
	// pasv-port-cooldown: when the proxy last closed a data connection on
	// each port first (TIME_WAIT; guarded by mu)
	cooling map[int]time.Time
}

type config struct {
	lo, hi     int // proxy range; 0: allocate
	size       int
	upLo, upHi int // upstream range; 0: unknown
	faults     []Fault
	stall      time.Duration
	cooldown   time.Duration
	dialTO     time.Duration
	logf       func(string, ...any)
	trace      bool
	account    string // the user the proxy serves (seq-user-unknown-530)
	listen     string // the control listener's host ("": by the upstream's family)
	readAhead  int    // ReadAhead: bytes of a download held ahead of the client
	// FTPS (WithTLS)
	tlsMode     ftp.TLSMode
	tlsUpstream *tls.Config
}

// Option configures a Proxy.
type Option func(*config)

// ProxyRange sets the proxy's own passive range (the range clients must be
// told about). Default: a free block locked like package servers does, the
// size of the upstream range when known, else servers.DefaultRangeSize.
func ProxyRange(lo, hi int) Option { return func(c *config) { c.lo, c.hi = lo, hi } }

// UpstreamRange declares the server's passive range. When it has the
// proxy range's size, the proxy mirrors the server's choices exactly: the
// server's port lo+k becomes the proxy's port lo'+k, and a port outside the
// server's range becomes one outside the proxy's, so range checks give the
// same verdicts through the proxy. Otherwise proxy ports are random.
func UpstreamRange(lo, hi int) Option { return func(c *config) { c.upLo, c.upHi = lo, hi } }

// WithFaults injects faults (several may be combined).
func WithFaults(f ...Fault) Option { return func(c *config) { c.faults = append(c.faults, f...) } }

// StallFor sets how long the reply-stall fault holds a reply (default 30s,
// longer than the suites' default 10s timeout).
func StallFor(d time.Duration) Option { return func(c *config) { c.stall = d } }

// CooldownFor sets how long pasv-port-cooldown keeps a passive port
// unusable after its data connection closed (default 60s, about Linux's
// TIME_WAIT).
func CooldownFor(d time.Duration) Option { return func(c *config) { c.cooldown = d } }

// ReadAhead makes the proxy a relay with deep buffers, as a userland proxy
// is where Linux autotunes its sockets' buffers (docker-proxy publishing a
// container's ports on a host whose tcp_rmem allows 32 MiB), in the limit:
// it reads each download, up to n bytes, before it sends the client any of
// it; a download read whole waits for its completion reply to be passed
// on first; and replies are passed on as they come, without waiting for
// the data relayed before them. Not a fault of the server: a path the
// suites meet in front of servers, where a server may finish a download
// its client has not read.
func ReadAhead(n int) Option { return func(c *config) { c.readAhead = n } }

// WithLogf receives one line per notable proxy event (for debugging).
func WithLogf(f func(format string, args ...any)) Option { return func(c *config) { c.logf = f } }

// Trace logs every command and reply through WithLogf's function.
func Trace() Option { return func(c *config) { c.trace = true } }

// Account names the server's account (StartFor takes the target's user):
// the fault seq-user-unknown-530 refuses USER of any other name.
func Account(user string) Option { return func(c *config) { c.account = user } }

// ListenOn sets the host the proxy listens on (127.0.0.1 or ::1). Default:
// ::1 when the upstream's host is an IPv6 address, else 127.0.0.1, so a
// client meets the server's address family (over IPv6, EPSV replies and
// PASV over IPv6 are what the suites judge).
func ListenOn(host string) Option { return func(c *config) { c.listen = host } }

// New starts a proxy in front of the FTP server at upstream (host:port),
// listening on a free port of 127.0.0.1 (::1 in front of an IPv6 upstream;
// ListenOn). Close it when done.
func New(upstream string, opts ...Option) (*Proxy, error) {
	cfg := config{stall: 30 * time.Second, cooldown: time.Minute, dialTO: 10 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logf == nil {
		cfg.logf = func(string, ...any) {}
	}
	p := &Proxy{upstream: upstream, cfg: cfg, b: merge(cfg.faults), ports: map[int]*plistener{}, sessions: map[*session]bool{}, cooling: map[int]time.Time{}}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if cfg.lo > 0 {
		p.lo, p.hi = cfg.lo, cfg.hi
	} else {
		n := cfg.size
		if n == 0 && cfg.upLo > 0 {
			n = cfg.upHi - cfg.upLo + 1
		}
		lo, hi, l, err := allocRange(n)
		if err != nil {
			return nil, err
		}
		p.lo, p.hi, p.lease = lo, hi, l
	}
	if p.b.shift {
		lo, _, l, err := allocRange(p.hi - p.lo + 1)
		if err != nil {
			p.lease.release()
			return nil, err
		}
		p.shadowLo, p.shadowLease = lo, l
	}
	p.nextSeq = p.lo
	p.lowCursor = 1023
	var err error
	if p.tls, err = newTLSSetup(cfg); err == nil && p.tls != nil {
		p.srvCfg, err = p.tls.serverConfig(p.b)
	}
	if err != nil {
		p.lease.release()
		p.shadowLease.release()
		p.tls.remove()
		return nil, err
	}
	host := controlHost(upstream, cfg.listen)
	ln, err := net.Listen(tcpNetwork(net.ParseIP(host)), net.JoinHostPort(host, "0"))
	if err != nil {
		p.lease.release()
		p.shadowLease.release()
		p.tls.remove()
		return nil, err
	}
	p.ln = ln
	p.wg.Add(2)
	go p.serve()
	go p.syncLoop()
	return p, nil
}

// StartFor starts a proxy in front of a server described by t, mirroring
// its passive range (UpstreamRange from t.PasvRange, a proxy range of the
// same size) and, for an FTPS target, its TLS mode and trust (WithTLS).
// Options given later override.
func StartFor(ctx context.Context, t target.Config, opts ...Option) (*Proxy, error) {
	all := []Option{Account(t.User)}
	if t.FTPS() {
		cfg, err := t.TLSConfig()
		if err != nil {
			return nil, err
		}
		all = append(all, WithTLS(t.TLSMode(), cfg))
	}
	if t.PasvRange != "" {
		lo, hi, err := parseRange(t.PasvRange)
		if err != nil {
			return nil, err
		}
		all = append(all, UpstreamRange(lo, hi))
	}
	p, err := New(t.Addr, append(all, opts...)...)
	if err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, func() { p.Close() })
	return p, nil
}

// controlHost is the host the proxy's control listener binds: listen when
// set, else the loopback address of upstream's family.
func controlHost(upstream, listen string) string {
	if listen != "" {
		return listen
	}
	if host, _, err := net.SplitHostPort(upstream); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			return "::1"
		}
	}
	return "127.0.0.1"
}

// tcpNetwork is "tcp4" for an IPv4 address, "tcp6" for an IPv6 one: a
// listener binds exactly its address's family.
func tcpNetwork(ip net.IP) string {
	if ip != nil && ip.To4() == nil {
		return "tcp6"
	}
	return "tcp4"
}

// Addr is the proxy's control address (127.0.0.1:port, [::1]:port over
// IPv6).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Range is the proxy's passive range, the one to declare to the suites.
func (p *Proxy) Range() (lo, hi int) { return p.lo, p.hi }

// RangeString is Range as "lo-hi".
func (p *Proxy) RangeString() string { return fmt.Sprintf("%d-%d", p.lo, p.hi) }

// Target is up as seen through the proxy: the proxy's address and passive
// range, the same credentials and declared address.
func (p *Proxy) Target(up target.Config) target.Config {
	t := up
	t.Addr = p.Addr()
	t.PasvRange = p.RangeString()
	if p.tls != nil {
		t.TLS, t.TLSCA, t.TLSInsecure = p.tls.mode.String(), p.tls.caFile, false
	}
	if t.Server != "" {
		t.Server += "+faulty"
	}
	return t
}

// Close stops the proxy: the control listener, every session, passive
// listener and data connection.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		ss := make([]*session, 0, len(p.sessions))
		for s := range p.sessions {
			ss = append(ss, s)
		}
		ls := make([]*plistener, 0, len(p.ports))
		for _, l := range p.ports {
			ls = append(ls, l)
		}
		p.ports = map[int]*plistener{}
		p.mu.Unlock()
		p.cancel()
		p.ln.Close()
		for _, s := range ss {
			s.shutdown()
		}
		for _, l := range ls {
			l.closeSockets()
		}
		done := make(chan struct{})
		go func() { p.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		p.lease.release()
		p.shadowLease.release()
		p.tls.remove()
	})
	return nil
}

// shadowPort is the port pasv-port-shift advertises for the proxy's port:
// the same offset in the reserved shadow range, where nothing listens.
func (p *Proxy) shadowPort(port int) int {
	return p.shadowLo + port - p.lo
}

// upstreamInRange reports whether the server's port lies in its declared
// range (true when no range is declared).
func (p *Proxy) upstreamInRange(port int) bool {
	return p.cfg.upLo == 0 || (port >= p.cfg.upLo && port <= p.cfg.upHi)
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.flushClosed()
		s := newSession(p, c.(*net.TCPConn))
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		p.nextID++
		s.id = p.nextID
		p.sessions[s] = true
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			s.run()
			p.mu.Lock()
			delete(p.sessions, s)
			p.mu.Unlock()
		}()
	}
}

// flushClosed keeps the order in which a client closes one session and
// opens the next: every session whose client had already closed its
// control connection when the new one arrived has that close passed to
// the server before the new upstream connection is made. (pyftpdlib, for
// one, can lose a new session that arrives while it closes another.)
func (p *Proxy) flushClosed() {
	p.mu.Lock()
	var closing []*session
	for s := range p.sessions {
		if tcpPeerClosed(s.cc) {
			closing = append(closing, s)
		}
	}
	p.mu.Unlock()
	deadline := time.After(50 * time.Millisecond)
	for _, s := range closing {
		select {
		case <-s.clientEOF:
		case <-s.done:
		case <-deadline:
			return
		}
	}
}

func (p *Proxy) logf(format string, args ...any) { p.cfg.logf(format, args...) }

func (p *Proxy) inRange(port int) bool { return port >= p.lo && port <= p.hi }

func (p *Proxy) mirrored() bool {
	return p.cfg.upLo > 0 && p.cfg.upHi-p.cfg.upLo == p.hi-p.lo
}

// openPassive gives s a passive listener relaying to upstream (host:port,
// "" for a listener that accepts and closes), following the allocation
// mode. upPort is the port the server advertised (0 if none).
func (p *Proxy) openPassive(s *session, ips []net.IP, upstream string, upPort int, mode allocMode) (*plistener, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, net.ErrClosed
	}
	a := passiveAlloc{p: p, s: s, ips: ips, upstream: upstream, mode: mode}
	var l *plistener
	switch mode {
	case allocOutside:
		l = a.bound(p.listenOutside(ips))
	case allocLow:
		l = a.low()
	case allocSequential:
		l = a.sequential()
	case allocShared:
		l = a.tryPort(p.lo)
	case allocEven, allocOdd:
		l = a.parity()
	default:
		l = a.mirror(upPort)
	}
	return l, nilIfFound(l)
}

// passiveAlloc is one passive listener being found for a session under
// the proxy's lock (openPassive).
type passiveAlloc struct {
	p        *Proxy
	s        *session
	ips      []net.IP
	upstream string
	mode     allocMode
}

// bound binds the session to l (nil stays nil) and returns it.
func (a passiveAlloc) bound(l *plistener) *plistener {
	if l == nil {
		return nil
	}
	p := a.p
	p.gen++
	b := &binding{s: a.s, upstream: a.upstream, gen: p.gen}
	if host, port, err := net.SplitHostPort(a.upstream); err == nil {
		b.upIP = net.ParseIP(host)
		b.upPort, _ = strconv.Atoi(port)
	}
	l.bindings = append(l.bindings, b)
	return l
}

// tryPort binds the session to a listener on port: a new one, the shared
// one (allocShared), or, when the server handed a mirrored port out again,
// a fresh one taking over from the session that held it.
func (a passiveAlloc) tryPort(port int) *plistener {
	p, s := a.p, a.s
	l, ok := p.ports[port]
	if !ok {
		nl, err := p.listen(a.ips, port)
		if err != nil {
			return nil
		}
		return a.bound(nl)
	}
	if a.mode == allocShared {
		return a.bound(l)
	}
	// The server handed out this port again: whoever held it before has
	// lost it (its server-side listener is gone), unless it was
	// deliberately leaked.
	if l.leaked || a.mode != allocMirror || !p.mirrored() {
		return nil
	}
	// Under pasv-port-cooldown a listener may stand in for another server
	// port (its mirror was cooling): the server did not hand this one out
	// again, another session still holds it.
	for _, b := range l.bindings {
		if b.s != s && b.s.listener == l && b.upstream != a.upstream {
			return nil
		}
	}
	for _, b := range l.bindings {
		if b.s != s && b.s.listener == l {
			b.s.listener = nil
		}
	}
	// The server listens on a new socket: so does the proxy. A connection
	// still queued on the old one (a client that connected and closed at
	// once) belongs to the old listener, as it would on the server, and
	// must not consume the new binding.
	l.bindings = nil
	delete(p.ports, port)
	l.closeSockets()
	nl, err := p.listen(a.ips, port)
	if err != nil {
		return nil
	}
	return a.bound(nl)
}

// random takes a free port of the range, starting at a random one.
func (a passiveAlloc) random() *plistener {
	p := a.p
	n := p.hi - p.lo + 1
	start := rand.IntN(n)
	for i := 0; i < n; i++ {
		port := p.lo + (start+i)%n
		if _, busy := p.ports[port]; busy {
			continue
		}
		if l := a.tryPort(port); l != nil {
			return l
		}
	}
	return nil
}

// low takes a free port below 1024, counting down.
func (a passiveAlloc) low() *plistener {
	p := a.p
	return a.firstFree(200, func() int {
		port := p.lowCursor
		p.lowCursor--
		if p.lowCursor < 600 {
			p.lowCursor = 1023
		}
		return port
	})
}

// sequential takes the next free port of the range after the last one.
func (a passiveAlloc) sequential() *plistener {
	p := a.p
	return a.firstFree(p.hi-p.lo+1, func() int {
		port := p.nextSeq
		p.nextSeq++
		if p.nextSeq > p.hi {
			p.nextSeq = p.lo
		}
		return port
	})
}

// firstFree binds the first port next gives that is free and can be
// listened on, trying at most tries ports.
func (a passiveAlloc) firstFree(tries int, next func() int) *plistener {
	for i := 0; i < tries; i++ {
		port := next()
		if _, busy := a.p.ports[port]; busy {
			continue
		}
		if l := a.tryPort(port); l != nil {
			return l
		}
	}
	return nil
}

// parity takes a random free port whose offset in the range is even
// (allocEven) or odd (allocOdd), else any free one.
func (a passiveAlloc) parity() *plistener {
	p := a.p
	var l *plistener
	n := p.hi - p.lo + 1
	want := 0
	if a.mode == allocOdd {
		want = 1
	}
	start := rand.IntN(n)
	for pass := 0; pass < 2 && l == nil; pass++ {
		for i := 0; i < n && l == nil; i++ {
			port := p.lo + (start+i)%n
			if _, busy := p.ports[port]; busy || (pass == 0 && (port-p.lo)%2 != want) {
				continue
			}
			l = a.bound(p.listenAt(a.ips, port))
		}
	}
	return l
}

// mirror takes the port at the server's offset in the range (a port the
// server advertised outside its range gets one outside the proxy's), else
// a random one.
func (a passiveAlloc) mirror(upPort int) *plistener {
	p := a.p
	var l *plistener
	if p.mirrored() && upPort > 0 {
		if upPort < p.cfg.upLo || upPort > p.cfg.upHi {
			return a.bound(p.listenOutside(a.ips))
		}
		l = a.tryPort(p.lo + upPort - p.cfg.upLo)
	}
	if l == nil {
		l = a.random()
	}
	return l
}

func nilIfFound(l *plistener) error {
	if l == nil {
		return errExhausted
	}
	return nil
}

// listenAt listens on port (nil if it cannot). Called with p.mu held.
func (p *Proxy) listenAt(ips []net.IP, port int) *plistener {
	l, err := p.listen(ips, port)
	if err != nil {
		return nil
	}
	return l
}

// listenOutside listens on a kernel-chosen port outside the proxy range.
// Called with p.mu held.
func (p *Proxy) listenOutside(ips []net.IP) *plistener {
	for i := 0; i < 50; i++ {
		l, err := p.listen(ips, 0)
		if err != nil {
			return nil
		}
		if !p.inRange(l.port) && (p.cfg.upLo == 0 || l.port < p.cfg.upLo || l.port > p.cfg.upHi) {
			return l
		}
		l.closeSockets()
		delete(p.ports, l.port)
	}
	return nil
}

// listen binds port (0: any) on every address in ips and registers the
// listener. Called with p.mu held.
func (p *Proxy) listen(ips []net.IP, port int) (*plistener, error) {
	if port != 0 && p.coolingLocked(port) {
		return nil, errCooling
	}
	l := &plistener{p: p}
	for _, ip := range ips {
		ln, err := net.Listen(tcpNetwork(ip), net.JoinHostPort(ip.String(), strconv.Itoa(port)))
		if err != nil {
			l.closeSockets()
			return nil, err
		}
		if port == 0 {
			port = ln.Addr().(*net.TCPAddr).Port
		}
		l.lns = append(l.lns, ln)
	}
	l.port = port
	p.ports[port] = l
	for _, ln := range l.lns {
		p.wg.Add(1)
		go l.acceptLoop(ln)
	}
	return l, nil
}

// release unbinds s from l (the proxy answered that passive command
// itself, or the session is gone); l is closed when nothing is bound to it
// any more, unless the leak fault keeps unused listeners open.
func (p *Proxy) release(s *session, l *plistener) {
	if l == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unbindLocked(l, func(b *binding) bool { return b.s == s })
}

// unbindLocked removes the bindings of l for which gone is true, and closes
// l when none is left. Called with p.mu held.
func (p *Proxy) unbindLocked(l *plistener, gone func(*binding) bool) {
	var kept []*binding
	for _, b := range l.bindings {
		switch {
		case !gone(b):
		case p.b.leakUnused && !b.used && l.accepted == 0:
			l.leaked = true // never connected to: never closed
		default:
			if b.s.listener == l {
				b.s.listener = nil
			}
			continue
		}
		kept = append(kept, b)
	}
	l.bindings = kept
	if len(kept) == 0 && !l.leaked {
		if p.ports[l.port] == l {
			delete(p.ports, l.port)
		}
		l.closeSockets()
	}
}

// releaseSession handles the end of s: listeners the proxy made up for it
// are closed; the others follow the server's (sync).
func (p *Proxy) releaseSession(s *session) {
	p.mu.Lock()
	for _, l := range p.ports {
		p.unbindLocked(l, func(b *binding) bool { return b.s == s && b.upstream == "" })
	}
	p.mu.Unlock()
	// The server closes the session's listeners around the time it closes
	// the control connection, not necessarily before: look again shortly.
	p.sync()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for i := 0; i < 100 && p.bound(s); i++ {
			select {
			case <-time.After(500 * time.Microsecond):
			case <-p.ctx.Done():
				return
			}
			p.sync()
		}
	}()
}

// bound reports whether any listener is still bound to s.
func (p *Proxy) bound(s *session) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.ports {
		for _, b := range l.bindings {
			if b.s == s {
				return true
			}
		}
	}
	return false
}

// sync closes the proxy listeners whose server-side listener is gone, so
// a client finds the proxy's ports open exactly when it would find the
// server's open. It runs before every reply is forwarded (the points where
// a client can act on the server's state) and every 100ms.
func (p *Proxy) sync() {
	p.mu.Lock()
	gen := p.gen
	any := false
	for _, l := range p.ports {
		for _, b := range l.bindings {
			if b.upstream != "" {
				any = true
			}
		}
	}
	p.mu.Unlock()
	if !any {
		return
	}
	ls, err := listening()
	if err != nil {
		p.logf("probing listeners: %v", err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.ports {
		p.unbindLocked(l, func(b *binding) bool {
			if b.upstream == "" || b.gen > gen || ls.has(b.upIP, b.upPort) {
				return false // made up by the proxy, newer than the probe, or alive
			}
			if p.b.keepOld && b.s.alive() && b.s.listener != l {
				return false // superseded, deliberately kept open
			}
			return true
		})
	}
}

func (p *Proxy) syncLoop() {
	defer p.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
			p.sync()
		}
	}
}
