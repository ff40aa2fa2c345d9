package ftp

import (
	"context"
	"net"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// AddrPolicy decides which address the data connection goes to.
type AddrPolicy int

const (
	// ControlHost dials the control connection's peer address with the
	// advertised port, ignoring the advertised address (curl's default;
	// survives broken masquerading).
	ControlHost AddrPolicy = iota
	// Strict dials exactly the advertised address and port.
	Strict
)

func (p AddrPolicy) String() string {
	if p == Strict {
		return "strict"
	}
	return "control-host"
}

// ParseAddrPolicy reads "strict" or "control-host".
func ParseAddrPolicy(s string) (AddrPolicy, bool) {
	switch s {
	case "strict":
		return Strict, true
	case "control-host", "":
		return ControlHost, true
	}
	return ControlHost, false
}

// DataOptions configures a data connection.
type DataOptions struct {
	Policy AddrPolicy
	// LocalIP binds the data socket's source address (e.g. 127.0.0.2 to
	// play a foreign peer). The port is chosen by the kernel; with
	// IP_BIND_ADDRESS_NO_PORT the source port is shared across destinations.
	LocalIP net.IP
	// Clear keeps the data connection cleartext even under PROT P (to see
	// what a server does with one).
	Clear bool
	// NoResume makes a TLS data connection a full handshake instead of
	// resuming the control session (servers requiring reuse refuse it).
	NoResume bool
}

// Passive sends PASV (or EPSV when epsv is true) and parses the reply. The
// returned endpoint is the one advertised (EPSV carries no address, so the
// control peer's address is filled in). A reply other than 227/229 returns
// a *ReplyError along with the reply.
func (c *Conn) Passive(ctx context.Context, epsv bool) (Endpoint, Reply, error) {
	verb, want := "PASV", 227
	if epsv {
		verb, want = "EPSV", 229
	}
	r, err := c.Cmd(ctx, verb)
	if err != nil {
		return Endpoint{}, r, err
	}
	if r.Code != want {
		return Endpoint{}, r, &ReplyError{Cmd: verb, Reply: r}
	}
	if epsv {
		p, err := ParseEPSV(r.Text())
		if err != nil {
			return Endpoint{}, r, &ProtocolError{Kind: "bad-229", Msg: err.Error(), Raw: r.Raw, Reply: &r, Transcript: c.tr}
		}
		c.notePort(p)
		return Endpoint{IP: c.RemoteIP(), Port: p}, r, nil
	}
	ep, err := ParsePASV(r.Text())
	if err != nil {
		return Endpoint{}, r, &ProtocolError{Kind: "bad-227", Msg: err.Error(), Raw: r.Raw, Reply: &r, Transcript: c.tr}
	}
	c.notePort(ep.Port)
	return ep, r, nil
}

// notePort tells WithPortObserver's function of a passive port used.
func (c *Conn) notePort(port int) {
	if c.opts.onPort != nil {
		c.opts.onPort(port)
	}
}

// DataTarget is the address a data connection to ep goes to under policy.
func (c *Conn) DataTarget(ep Endpoint, policy AddrPolicy) string {
	ip := ep.IP
	if policy == ControlHost || ip == nil {
		ip = c.RemoteIP()
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(ep.Port))
}

// DialData opens a data connection to ep under opts, bounded by ctx (or the
// Conn's default timeout). Under PROT P it is the TLS client side (see
// WrapData), its handshake left for the transfer.
func (c *Conn) DialData(ctx context.Context, ep Endpoint, opts DataOptions) (net.Conn, error) {
	ctx, cancel := withDefaultDeadline(ctx, c.opts.timeout)
	defer cancel()
	addr := c.DataTarget(ep, opts.Policy)
	nc, err := DialTCP(ctx, addr, opts.LocalIP)
	if err != nil {
		c.tr.Notef("data connect %s failed: %v", addr, err)
		return nil, &OpError{Op: "data connect " + addr, Err: err, Transcript: c.tr}
	}
	c.tr.Notef("data connected %s -> %s", nc.LocalAddr(), addr)
	c.notePort(ep.Port)
	return c.wrapData(nc, opts), nil
}

// DialTCP dials addr from localIP (if set) with IP_BIND_ADDRESS_NO_PORT so
// many connections from one source address do not exhaust its ephemeral
// ports before the destination does.
func DialTCP(ctx context.Context, addr string, localIP net.IP) (net.Conn, error) {
	return dialTCP(ctx, addr, localIP, 0)
}

// DialTCPNoKeepAlive is DialTCP without TCP keep-alive, whose setsockopt
// calls are a measurable part of a short-lived connection (a load
// generator's passive cycle) that never needs it.
func DialTCPNoKeepAlive(ctx context.Context, addr string, localIP net.IP) (net.Conn, error) {
	return dialTCP(ctx, addr, localIP, -1)
}

func dialTCP(ctx context.Context, addr string, localIP net.IP, keepAlive time.Duration) (net.Conn, error) {
	d := net.Dialer{KeepAlive: keepAlive}
	if localIP != nil {
		d.LocalAddr = &net.TCPAddr{IP: localIP}
		d.Control = func(network, address string, rc syscall.RawConn) error {
			var serr error
			rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
			})
			return serr
		}
	}
	return d.DialContext(ctx, "tcp", addr)
}

// OpenPassive is Passive followed by DialData: the usual way to get a data
// connection.
func (c *Conn) OpenPassive(ctx context.Context, epsv bool, opts DataOptions) (net.Conn, Endpoint, error) {
	ep, _, err := c.Passive(ctx, epsv)
	if err != nil {
		return nil, ep, err
	}
	nc, err := c.DialData(ctx, ep, opts)
	return nc, ep, err
}
