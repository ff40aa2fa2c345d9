package framework

// Active mode (PORT/EPRT): listeners the harness owns for the server to
// connect to, and transfers over them.

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/ftp"
)

// Catcher is a TCP listener the harness owns, used as the target of
// PORT/EPRT (active mode) and to prove that a server did NOT connect
// somewhere (bounce, superseded endpoints, late connections). Every
// connection it accepts is recorded with its arrival time; nothing is ever
// sent to the peer unless a check takes the connection with Take.
type Catcher struct {
	ln   net.Listener
	mu   sync.Mutex
	got  []Arrival
	wake chan struct{}
	done chan struct{}
}

// Arrival is one connection a Catcher accepted.
type Arrival struct {
	Conn   net.Conn
	From   *net.TCPAddr
	At     time.Time
	taken  bool
	closed bool
}

// ListenCatcher listens on ip (port chosen by the kernel, always >= 1024
// on Linux) and closes the listener and every accepted connection when the
// spec ends.
func ListenCatcher(ip net.IP) *Catcher {
	GinkgoHelper()
	c, err := TryListenCatcher(ip, 0)
	Expect(err).NotTo(HaveOccurred(), "listen on %s for the server's data connection", ip)
	return c
}

// TryListenCatcher is ListenCatcher with an explicit port (0: any),
// returning the error (e.g. a privileged or busy port) instead of failing.
func TryListenCatcher(ip net.IP, port int) (*Catcher, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	c := &Catcher{ln: ln, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go c.loop()
	DeferCleanup(c.Close)
	return c, nil
}

func (c *Catcher) loop() {
	defer close(c.done)
	for {
		nc, err := c.ln.Accept()
		if err != nil {
			return
		}
		a := Arrival{Conn: nc, At: time.Now()}
		a.From, _ = nc.RemoteAddr().(*net.TCPAddr)
		c.mu.Lock()
		c.got = append(c.got, a)
		c.mu.Unlock()
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// Close stops listening and closes every connection not taken.
func (c *Catcher) Close() {
	c.ln.Close()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.got {
		if !c.got[i].closed {
			c.got[i].Conn.Close()
			c.got[i].closed = true
		}
	}
}

// Addr is the listening address.
func (c *Catcher) Addr() *net.TCPAddr { return c.ln.Addr().(*net.TCPAddr) }

// Port is the listening port.
func (c *Catcher) Port() int { return c.Addr().Port }

// IP is the listening address.
func (c *Catcher) IP() net.IP { return c.Addr().IP }

func (c *Catcher) String() string { return c.Addr().String() }

// PortArg is the PORT argument naming this listener (h1,h2,h3,h4,p1,p2).
func (c *Catcher) PortArg() string {
	s, err := ftp.FormatPORT(c.IP(), c.Port())
	if err != nil {
		panic(err)
	}
	return s
}

// EprtArg is the EPRT argument naming this listener (|1|a.b.c.d|port|).
func (c *Catcher) EprtArg() string { return ftp.FormatEPRT(c.IP(), c.Port()) }

// Arrivals returns every connection accepted so far.
func (c *Catcher) Arrivals() []Arrival {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Arrival(nil), c.got...)
}

// Count is the number of connections accepted so far.
func (c *Catcher) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

// Take returns the next accepted connection not yet taken, waiting up to
// ctx's deadline. The caller owns (and closes) it.
func (c *Catcher) Take(ctx context.Context) (net.Conn, *net.TCPAddr, error) {
	for {
		c.mu.Lock()
		for i := range c.got {
			if !c.got[i].taken {
				c.got[i].taken = true
				c.got[i].closed = true // the caller closes it
				a := c.got[i]
				c.mu.Unlock()
				return a.Conn, a.From, nil
			}
		}
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-c.done:
			return nil, nil, net.ErrClosed
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("no connection from the server to %s: %w", c, ctx.Err())
		}
	}
}

// DataFunc yields the server's active data connection to
// ftp.TransferWith, as s's data protection has it (the TLS client side
// under PROT P, whichever side connected: RFC 4217 §7).
func (c *Catcher) DataFunc(s *Session) ftp.DataFunc {
	return func(ctx context.Context) (net.Conn, error) {
		nc, _, err := c.Take(ctx)
		if err != nil {
			return nil, err
		}
		return s.ProtectedData(nc), nil
	}
}

// Quiet waits d and reports every connection that arrived (the checks
// that assert "no connection ever reached this listener" use it). It
// returns early with what arrived if ctx ends.
func (c *Catcher) Quiet(ctx context.Context, d time.Duration) []Arrival {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return c.Arrivals()
}

// DescribeArrivals renders arrivals for a failure message.
func DescribeArrivals(as []Arrival) string {
	if len(as) == 0 {
		return "none"
	}
	s := ""
	for i, a := range as {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("from %s at %s", a.From, a.At.Format("15:04:05.000"))
	}
	return s
}

// ActiveXfer runs cmdline over an active data connection: the server must
// connect to c after its preliminary reply. The data is returned.
func (s *Session) ActiveXfer(ctx context.Context, c *Catcher, cmdline string, upload io.Reader) (ftp.TransferResult, []byte) {
	var sink bytesSink
	octx, cancel := context.WithTimeout(ctx, 4*Config().Timeout)
	defer cancel()
	res := s.TransferWith(octx, cmdline, c.DataFunc(s), upload, &sink, nil)
	return res, sink.b
}

type bytesSink struct{ b []byte }

func (w *bytesSink) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// RequireActive skips checks that need PORT/EPRT to work when the operator
// declared active mode disabled on purpose.
func RequireActive() {
	if Config().Has("no-active") {
		Skip("--ftp.features=no-active: active mode (PORT/EPRT) is disabled on purpose")
	}
}

// SinkListener listens on ip (port chosen by the kernel), accepts and
// closes every connection, and is closed when the spec ends. It is the
// harness-owned target for PORT/EPRT arguments in passive-mode checks, so
// a server that (wrongly) connects out reaches only the harness.
func SinkListener(ip net.IP) net.Listener {
	GinkgoHelper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip})
	Expect(err).NotTo(HaveOccurred(), "listen on %s for a PORT/EPRT target", ip)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	DeferCleanup(ln.Close)
	return ln
}

// PortArgs returns the PORT and EPRT arguments naming l; port is "" when
// l listens on an IPv6 address (PORT carries IPv4 only, RFC 2428 §1).
func PortArgs(l net.Listener) (port, eprt string) {
	a := l.Addr().(*net.TCPAddr)
	p, _ := ftp.FormatPORT(a.IP, a.Port)
	return p, ftp.FormatEPRT(a.IP, a.Port)
}
