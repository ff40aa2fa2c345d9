package faulty

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ftpharness/ftpharness/ftp"
)

// plistener is one proxy passive port (bound on one or more loopback
// addresses). Its bindings say which session(s) it serves and where their
// data connections go upstream; normally there is exactly one.
type plistener struct {
	p        *Proxy
	port     int
	lns      []net.Listener
	bindings []*binding // guarded by p.mu
	accepted int        // guarded by p.mu
	leaked   bool       // guarded by p.mu
	once     sync.Once
}

type binding struct {
	s        *session
	upstream string // host:port of the server's listener; "" accept and close
	upIP     net.IP
	upPort   int
	gen      uint64
	used     bool
}

func (l *plistener) closeSockets() {
	l.once.Do(func() {
		for _, ln := range l.lns {
			ln.Close()
		}
	})
}

func (l *plistener) acceptLoop(ln net.Listener) {
	defer l.p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		l.p.wg.Add(1)
		go func() {
			defer l.p.wg.Done()
			l.handle(c.(*net.TCPConn))
		}()
	}
}

// pick chooses the binding an accepted connection belongs to: the newest
// unused binding of a session whose control peer has the same address,
// else the newest unused, else the newest.
func (l *plistener) pick(peer net.IP) *binding {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	var b *binding
	for i := len(l.bindings) - 1; i >= 0 && b == nil; i-- {
		if x := l.bindings[i]; !x.used && x.s.clientIP.Equal(peer) {
			b = x
		}
	}
	for i := len(l.bindings) - 1; i >= 0 && b == nil; i-- {
		if x := l.bindings[i]; !x.used {
			b = x
		}
	}
	if b == nil && len(l.bindings) > 0 {
		b = l.bindings[len(l.bindings)-1]
	}
	if b != nil {
		b.used = true
		l.accepted++
	}
	return b
}

func reset(c *net.TCPConn) {
	c.SetLinger(0)
	c.Close()
}

func (l *plistener) handle(dc *net.TCPConn) {
	peer := dc.RemoteAddr().(*net.TCPAddr).IP
	b := l.pick(peer)
	if b == nil || b.upstream == "" {
		reset(dc)
		return
	}
	s := b.s
	if l.superseded(b) {
		// the server reset this connection with its old listener
		l.p.logf("session %d: data %s -> %s: the server has handed that port out again since; reset", s.id, peer, b.upstream)
		reset(dc)
		return
	}
	// Mirror the data peer's address upstream, so the server judges a
	// foreign peer as it would without the proxy.
	src := peer
	if l.p.b.foreignAccept {
		src = s.clientIP
	}
	if (src.To4() == nil) != (b.upIP.To4() == nil) {
		src = nil // the client and the server differ in family (ListenOn)
	}
	ctx, cancel := context.WithTimeout(l.p.ctx, l.p.cfg.dialTO)
	s.relaysDialing.Add(1) // until the relay is registered (waitData)
	uc, err := ftp.DialTCP(ctx, b.upstream, src)
	cancel()
	if err != nil {
		s.relaysDialing.Add(-1)
		// The server no longer listens there: neither does the proxy.
		l.p.logf("session %d: data %s -> %s: %v", s.id, peer, b.upstream, err)
		l.p.mu.Lock()
		kept := l.leaked || (l.p.b.keepOld && s.listener != l)
		l.p.mu.Unlock()
		if kept {
			// A listener a faulty server forgot: it accepts, and nothing
			// ever comes of it.
			dc.SetReadDeadline(time.Now().Add(30 * time.Second))
			stop := context.AfterFunc(l.p.ctx, func() { dc.Close() })
			io.Copy(io.Discard, dc)
			stop()
			dc.Close()
			return
		}
		reset(dc)
		l.p.sync()
		return
	}
	r := newRelay(s, dc, uc.(*net.TCPConn))
	r.activeClose = func() { l.p.timeWait(l.port) }
	if s.startRelay(r) {
		r.run()
		s.removeRelay(r)
	}
}

// superseded reports whether the server has handed b's port out again
// since b was made. A connection the kernel queued on the proxy's listener
// before that belongs to the server's old listener, which the server closed
// (resetting what was queued on it) before listening on the port again;
// relayed late, it would land on the new listener and use up the data
// connection meant for the later passive reply (whose proxy port then
// closes: a client sees it refused). While a passive command of b's
// session is out, the answer may be that port again: wait for it first.
func (l *plistener) superseded(b *binding) bool {
	s := b.s
	deadline := time.Now().Add(min(l.p.cfg.dialTO, 2*time.Second))
	for s.pendingPassive.Load() > 0 && time.Now().Before(deadline) {
		select {
		case <-s.done:
			return false
		case <-l.p.ctx.Done():
			return false
		case <-time.After(time.Millisecond):
		}
	}
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	for _, o := range l.p.ports {
		for _, x := range o.bindings {
			if x.gen > b.gen && x.upPort == b.upPort && x.upIP.Equal(b.upIP) {
				return true
			}
		}
	}
	return false
}

// relay moves one data connection's bytes both ways, passing half-closes
// and resets on.
type relay struct {
	s      *session
	dc, uc *net.TCPConn // client side, server side
	// dcs, ucs are the streams carried: dc and uc, or TLS over them
	// (PROT P; tls_data.go)
	dcs, ucs net.Conn
	downDone chan struct{}
	upEOF    atomic.Bool // the server closed its side (EOF read)
	aborted  atomic.Bool // the client sent ABOR after the relay started
	// replied is closed once a final reply was forwarded after upEOF
	// (data-early-226 keeps the client's side open until then).
	replied     chan struct{}
	repliedOnce sync.Once
	// activeClose is called when the proxy is about to close the client's
	// side first, leaving it in TIME_WAIT (as a server's side is after a
	// download); a client that closes first keeps TIME_WAIT on its side.
	activeClose func()
}

func newRelay(s *session, dc, uc *net.TCPConn) *relay {
	return &relay{s: s, dc: dc, uc: uc, dcs: dc, ucs: uc, downDone: make(chan struct{}), replied: make(chan struct{}), activeClose: func() {}}
}

func (r *relay) run() {
	b := r.s.p.b
	var wg sync.WaitGroup
	var clientFIN atomic.Bool // the client closed its side (EOF read)
	wg.Add(1)
	go func() { // client -> server (uploads)
		defer wg.Done()
		_, err := io.Copy(r.ucs, r.dcs)
		if err != nil {
			reset(r.uc)
			return
		}
		clientFIN.Store(true)
		closeWrite(r.ucs)
	}()
	// server -> client (downloads)
	err := r.copyDown(b)
	if err != nil {
		reset(r.dc)
	} else {
		if b.early226 {
			select {
			case <-r.replied:
				time.Sleep(300 * time.Millisecond)
			case <-time.After(3 * time.Second):
			case <-r.s.p.ctx.Done():
			}
		}
		if !clientFIN.Load() && !tcpPeerClosed(r.dc) {
			r.activeClose() // the proxy's FIN goes first
		}
		closeWrite(r.dcs)
	}
	close(r.downDone)
	wg.Wait()
	r.dc.Close()
	r.uc.Close()
}

// copyDown copies server -> client, holding the last byte back when a data
// fault needs to drop or change it at EOF.
func (r *relay) copyDown(b behaviour) error {
	hold := b.truncate || b.flipByte
	if n := r.s.p.cfg.readAhead; n > 0 && !hold && !b.doubleCR {
		return r.copyDownAhead(n)
	}
	buf := make([]byte, 64<<10)
	var last []byte
	var dbl *crDoubler
	started := false // the first bytes arrived: the RETR (if any) was sent
	for {
		n, err := r.ucs.Read(buf)
		if n > 0 && !started {
			started = true
			if b.doubleCR && r.s.asciiDownload() {
				dbl = &crDoubler{}
			}
		}
		if n > 0 {
			chunk := buf[:n]
			if dbl != nil {
				chunk = dbl.convert(chunk)
				n = len(chunk)
			}
			if hold {
				out := append(last, chunk[:n-1]...)
				last = []byte{chunk[n-1]}
				chunk = out
			}
			if len(chunk) > 0 {
				if _, werr := r.dcs.Write(chunk); werr != nil {
					reset(r.uc)
					return werr
				}
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return err
			}
			r.upEOF.Store(true)
			if hold && len(last) == 1 && !r.aborted.Load() {
				if b.flipByte {
					last[0] ^= 0x01
					if _, werr := r.dcs.Write(last); werr != nil {
						return werr
					}
				}
				// truncate: the byte is dropped
			} else if hold && len(last) == 1 {
				r.dcs.Write(last)
			}
			return nil
		}
	}
}

// copyDownAhead copies server -> client through up to n bytes held in
// memory (ReadAhead), store and forward: it reads the server's side until
// EOF or n bytes before it writes anything to the client, so a download
// smaller than n is complete on the server's side before the client has
// its first byte (the limit of a relay with deep buffers, whatever the
// machine's load). A client that resets its side resets the server's, as
// docker-proxy does.
func (r *relay) copyDownAhead(n int) error {
	var held [][]byte
	total := 0
	var upErr error
	for total < n && upErr == nil {
		buf := make([]byte, min(1<<20, n-total))
		k, err := r.ucs.Read(buf)
		held, total, upErr = append(held, buf[:k]), total+k, err
	}
	if errors.Is(upErr, io.EOF) {
		// the whole download is here: its completion reply goes first, as
		// it would through a relay slower than the control connection
		r.upEOF.Store(true)
		select {
		case <-r.replied:
		case <-time.After(10 * time.Second):
		case <-r.s.done:
		case <-r.s.p.ctx.Done():
		}
	}
	for _, buf := range held {
		if _, werr := r.dcs.Write(buf); werr != nil {
			reset(r.uc)
			return werr
		}
	}
	if upErr == nil {
		if _, err := io.Copy(r.dcs, r.ucs); err != nil {
			reset(r.uc)
			return err
		}
	} else if !errors.Is(upErr, io.EOF) {
		return upErr
	}
	r.upEOF.Store(true)
	return nil
}

// serverClosed reports whether the server has already closed its side of
// the data connection (EOF read, or its FIN is queued behind unread data).
func (r *relay) serverClosed() bool {
	return r.upEOF.Load() || tcpPeerClosed(r.uc)
}

// tcpPeerClosed reports whether the peer of c has closed (its FIN or RST
// has arrived, possibly behind data not read yet).
func tcpPeerClosed(c *net.TCPConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return true
	}
	var state uint8
	rc.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			state = info.State
		}
	})
	switch state {
	case 6, 7, 8, 9, 11: // TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, CLOSING
		return true
	}
	return false
}

func (r *relay) markReplied() {
	if r.upEOF.Load() || r.serverClosed() {
		r.repliedOnce.Do(func() { close(r.replied) })
	}
}

func (r *relay) kill() {
	reset(r.dc)
	reset(r.uc)
}

// crDoubler turns every CR LF into CR CR LF (ascii-double-cr), also when
// the CR and its LF arrive in different reads.
type crDoubler struct {
	prevCR bool
	out    []byte
}

func (d *crDoubler) convert(in []byte) []byte {
	d.out = d.out[:0]
	for _, c := range in {
		if c == '\n' && d.prevCR {
			d.out = append(d.out, '\r')
		}
		d.out = append(d.out, c)
		d.prevCR = c == '\r'
	}
	return d.out
}
