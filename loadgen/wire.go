package loadgen

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
)

// The generator speaks FTP through ftp.Conn in its load profile (loadOpts):
// no transcript (right for a conformance check, a measurable cost at tens
// of thousands of cycles per second and a memory cost per held session),
// a 512-byte read buffer, lenient replies that accumulate nothing, replies
// capped at 64 KiB. ctrl adds what the scenarios share: the hard context
// that interrupts blocked I/O, replies read under the per-operation
// timeout, errors as the generator has always classified them.

// maxReply bounds one reply (all its lines) read from a server.
const maxReply = 64 << 10

// bg is the context of every control operation: the deadline is the
// Conn's timeout and the hard context interrupts through the socket, so
// no per-operation watcher is armed.
var bg = context.Background()

var loadOpts = []ftp.Option{ftp.WithoutGreeting(), ftp.WithoutTranscript(), ftp.WithoutProblemLog(),
	ftp.WithStrictReplies(false), ftp.WithReadBuffer(512), ftp.WithReplyLimits(maxReply, maxReply)}

// ctrl is a control connection.
type ctrl struct {
	c    *ftp.Conn
	stop func() bool
}

// dialCtrl connects from local (nil: any) to addr. The greeting is not read.
// hard, when it is cancelled, interrupts any blocked I/O on the connection.
// extra are more ftp.Conn options (FTPS: the TLS configuration).
func dialCtrl(ctx context.Context, hard context.Context, addr string, local net.IP, timeout time.Duration, extra ...ftp.Option) (*ctrl, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := dialTCP(dctx, addr, local)
	if err != nil {
		return nil, err
	}
	return newCtrl(nc, hard, timeout, extra...), nil
}

func newCtrl(nc net.Conn, hard context.Context, timeout time.Duration, extra ...ftp.Option) *ctrl {
	opts := append(loadOpts[:len(loadOpts):len(loadOpts)], ftp.WithTimeout(timeout))
	fc, _ := ftp.NewConn(bg, nc, append(opts, extra...)...)
	c := &ctrl{c: fc}
	if hard != nil {
		c.stop = context.AfterFunc(hard, func() { nc.SetDeadline(time.Unix(1, 0)) })
	}
	return c
}

func (c *ctrl) close() {
	if c == nil || c.c == nil {
		return
	}
	if c.stop != nil {
		c.stop()
	}
	c.c.NetConn().Close()
}

// send writes one command line.
func (c *ctrl) send(line string) error { return bare(c.c.SendLine(bg, line)) }

// read reads one complete reply (RFC 959 §4.2, framed by ftp.ReplyReader).
func (c *ctrl) read() (ftp.Reply, error) {
	r, err := c.c.ReadReply(bg)
	if err == nil && (r.Code < 100 || r.Code > 599) {
		// framed, but not a code a client can act on
		return r, &ftp.ProtocolError{Kind: "bad-code", Msg: "reply code " + strconv.Itoa(r.Code) + " outside 100-599", Raw: r.Raw}
	}
	return r, bare(err)
}

// bare is err without ftp.Conn's *OpError wrapping (which carries no
// transcript here): the network error itself, as reports show it.
func bare(err error) error {
	if err == nil {
		return nil
	}
	var oe *ftp.OpError
	if errors.As(err, &oe) && oe.Reply == nil {
		return oe.Err
	}
	return err
}

// cmd sends a command and reads its reply.
func (c *ctrl) cmd(line string) (ftp.Reply, error) {
	if err := c.send(line); err != nil {
		return ftp.Reply{}, err
	}
	return c.read()
}

// expect sends a command and returns a *ftp.ReplyError unless the reply
// is one of codes.
func (c *ctrl) expect(line string, codes ...int) (ftp.Reply, error) {
	r, err := c.cmd(line)
	if err != nil {
		return r, err
	}
	if !r.Is(codes...) {
		return r, &ftp.ReplyError{Cmd: verbOf(line), Reply: r}
	}
	return r, nil
}

func verbOf(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == ' ' {
			return line[:i]
		}
	}
	return line
}

// greeting reads the greeting: 220, or 120 then 220.
func (c *ctrl) greeting() (ftp.Reply, error) {
	for {
		r, err := c.read()
		if err != nil {
			return r, err
		}
		switch {
		case r.Code == 120:
			continue
		case r.Code == 220:
			return r, nil
		default:
			return r, &ftp.ReplyError{Cmd: "greeting", Reply: r}
		}
	}
}

// login sends USER and (after 331/332) PASS.
func (c *ctrl) login(user, pass string) error {
	r, err := c.cmd("USER " + user)
	if err != nil {
		return err
	}
	if r.Code == 230 {
		return nil
	}
	if r.Code != 331 && r.Code != 332 {
		return &ftp.ReplyError{Cmd: "USER", Reply: r}
	}
	_, err = c.expect("PASS "+pass, 230, 202)
	return err
}

// passive sends PASV or EPSV and returns the advertised endpoint (EPSV:
// the control peer's address).
func (c *ctrl) passive(epsv bool) (ftp.Endpoint, ftp.Reply, error) {
	verb, want := "PASV", 227
	if epsv {
		verb, want = "EPSV", 229
	}
	r, err := c.cmd(verb)
	if err != nil {
		return ftp.Endpoint{}, r, err
	}
	if r.Code != want {
		return ftp.Endpoint{}, r, &ftp.ReplyError{Cmd: verb, Reply: r}
	}
	if epsv {
		p, err := ftp.ParseEPSV(r.Text())
		if err != nil {
			return ftp.Endpoint{}, r, &ftp.ProtocolError{Kind: "bad-229", Msg: err.Error(), Raw: r.Raw}
		}
		return ftp.Endpoint{IP: c.remote(), Port: p}, r, nil
	}
	ep, err := ftp.ParsePASV(r.Text())
	if err != nil {
		return ftp.Endpoint{}, r, &ftp.ProtocolError{Kind: "bad-227", Msg: err.Error(), Raw: r.Raw}
	}
	return ep, r, nil
}

// remote is the control connection's peer address.
func (c *ctrl) remote() net.IP {
	if ta, ok := c.c.NetConn().RemoteAddr().(*net.TCPAddr); ok {
		return ta.IP
	}
	return nil
}

// dataAddr is where a data connection to ep goes: by default the control
// peer with the advertised port (curl's default; checkEndpoint compares
// the advertised address). With strict the advertised address is meant,
// but a server can advertise any host, and a generator that dials it makes
// thousands of connections a second to an address the user never named (a
// bounce amplifier): so an address other than the control peer is dialled
// only when the user allowed it (remote); otherwise the cycle fails as
// address-mismatch and nothing is dialled.
func (c *ctrl) dataAddr(ep ftp.Endpoint, strict, remote bool) (string, error) {
	ip := c.remote()
	if strict && ep.IP != nil && !ep.IP.Equal(ip) {
		if !remote {
			return "", classError{ClassAddrMismatch, "data address " + ep.IP.String() + " advertised, not the control peer " +
				ip.String() + ": not dialled (--allow-remote-data dials it)"}
		}
		ip = ep.IP
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(ep.Port)), nil
}

// dialTCP is ftp.DialTCP (a bound source address shares its ephemeral
// ports across destinations: IP_BIND_ADDRESS_NO_PORT) without TCP
// keep-alive, whose setsockopt calls are a measurable part of a passive
// cycle and which a load test's short-lived connections never need.
func dialTCP(ctx context.Context, addr string, localIP net.IP) (net.Conn, error) {
	return ftp.DialTCPNoKeepAlive(ctx, addr, localIP)
}

// replyLine is a reply on one line as reports show it: the bytes received
// with CRs dropped, lines joined with " | " (control bytes are left to
// TermSafe and the HTML escaping of the reports).
func replyLine(r ftp.Reply) string {
	if len(r.Raw) == 0 {
		if len(r.Lines) > 0 {
			return r.String()
		}
		return ""
	}
	raw := r.Raw
	b := make([]byte, 0, len(raw)+8)
	for i := 0; i < len(raw); i++ {
		switch ch := raw[i]; ch {
		case '\r':
		case '\n':
			if i != len(raw)-1 {
				b = append(b, " | "...)
			}
		default:
			b = append(b, ch)
		}
	}
	return string(b)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
