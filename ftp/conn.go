package ftp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout bounds every network operation whose context carries no
// deadline of its own.
var DefaultTimeout = 10 * time.Second

// Conn is a control connection.
type Conn struct {
	nc       net.Conn
	rr       ReplyReader
	wmu      sync.Mutex // guards wbuf
	wbuf     []byte
	tr       *Transcript
	opts     connOpts // what the Conn needs of its options after Dial
	greeting *Reply   // read by Dial (nil: WithoutGreeting)

	mu       sync.Mutex // guards problems and pair
	problems []Reply
	unframed [][]byte   // lines that could not start a reply (Unframed)
	pair     *pairing   // with reply pairing only
	rmu      sync.Mutex // one reader at a time (taken only with reply pairing)
	tls      *tlsState  // with WithTLS only
}

// options; the flags are kept together (a Conn carries its options, and
// a load generator holds thousands of Conns).
type options struct {
	timeout   time.Duration
	localIP   net.IP
	tr        *Transcript
	pairGrace time.Duration
	bufSize   int
	maxLine   int
	maxReply  int
	strict    bool
	noGreet   bool
	pairing   bool
	noTr      bool // WithoutTranscript
	noProbs   bool // WithoutProblemLog
	noKeep    bool // WithoutKeepAlive
	tlsMode   TLSMode
	tlsCfg    *tls.Config // WithTLS
	tlsHost   string      // host dialled: the default ServerName
	onPort    func(int)
}

// connOpts is the part of the options a Conn consults after Dial (it is
// kept small: a load generator holds thousands of Conns).
type connOpts struct {
	timeout   time.Duration
	pairGrace time.Duration
	strict    bool
	pairing   bool
	noProbs   bool
	onPort    func(int) // WithPortObserver
}

// Option configures Dial.
type Option func(*options)

// WithTimeout sets the default per-operation timeout (used when a context
// has no deadline).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithLocalIP binds the control connection's source address.
func WithLocalIP(ip net.IP) Option { return func(o *options) { o.localIP = ip } }

// WithStrictReplies makes Cmd and ReadReply return a *ProtocolError for a
// reply that could be framed but deviates from RFC 959 §4.2 (missing CR,
// mismatched end code...). Default true. With false, such replies are
// returned normally and collected in Conn.Problems.
func WithStrictReplies(strict bool) Option { return func(o *options) { o.strict = strict } }

// WithoutGreeting skips reading the greeting (the caller reads it with
// ReadReply, e.g. to time it or to check SEQ-001 by hand).
func WithoutGreeting() Option { return func(o *options) { o.noGreet = true } }

// WithoutTranscript keeps no transcript (a load generator's sessions:
// the record costs time per line and memory per held session). Errors
// then carry a nil Transcript.
func WithoutTranscript() Option { return func(o *options) { o.noTr = true } }

// WithoutProblemLog keeps malformed replies out of Problems (with lenient
// replies they are returned normally and nothing accumulates).
func WithoutProblemLog() Option { return func(o *options) { o.noProbs = true } }

// WithReadBuffer sets the size of the control connection's read buffer
// (default 4096; a load generator holding thousands of sessions uses
// less).
func WithReadBuffer(n int) Option { return func(o *options) { o.bufSize = n } }

// WithReplyLimits bounds one reply line and one whole reply (defaults
// MaxLineLength and MaxReplySize).
func WithReplyLimits(maxLine, maxReply int) Option {
	return func(o *options) { o.maxLine, o.maxReply = maxLine, maxReply }
}

// WithPortObserver has f told the port of every passive endpoint a
// 227/229 advertises (Passive) and of every data connection DialData
// opens: a caller can note which of the server's passive ports it used,
// and when (a server may hold such a port a while after: TIME_WAIT, a
// session waiting out its accept timeout).
func WithPortObserver(f func(port int)) Option { return func(o *options) { o.onPort = f } }

// WithoutKeepAlive makes Dial turn TCP keep-alive off (its setsockopt
// calls are a measurable part of a short-lived connection).
func WithoutKeepAlive() Option { return func(o *options) { o.noKeep = true } }

func newOptions(opts []Option) options {
	o := options{timeout: DefaultTimeout, strict: true}
	for _, f := range opts {
		f(&o)
	}
	if o.tr == nil && !o.noTr {
		o.tr = NewTranscript()
	}
	return o
}

// Dial connects to addr and reads the greeting: 220, or 120 followed by 220.
// A 421 greeting yields an error wrapping ErrRefused.
func Dial(ctx context.Context, addr string, opts ...Option) (*Conn, error) {
	o := newOptions(opts)
	ctx, cancel := withDefaultDeadline(ctx, o.timeout)
	defer cancel()
	o.tr.Notef("connect %s", addr)
	o.tlsHost, _, _ = net.SplitHostPort(addr)
	var nc net.Conn
	var err error
	if o.noKeep {
		nc, err = DialTCPNoKeepAlive(ctx, addr, o.localIP)
	} else {
		d := net.Dialer{}
		if o.localIP != nil {
			d.LocalAddr = &net.TCPAddr{IP: o.localIP}
		}
		nc, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		o.tr.Notef("connect failed: %v", err)
		return nil, &OpError{Op: "connect", Err: err, Transcript: o.tr}
	}
	return newConn(ctx, nc, o)
}

// NewConn wraps an already-dialled control connection and, unless
// WithoutGreeting is given, reads the greeting as Dial does (closing nc
// when that fails).
func NewConn(ctx context.Context, nc net.Conn, opts ...Option) (*Conn, error) {
	o := newOptions(opts)
	if o.noGreet {
		return newConn(ctx, nc, o)
	}
	ctx, cancel := withDefaultDeadline(ctx, o.timeout)
	defer cancel()
	return newConn(ctx, nc, o)
}

func newConn(ctx context.Context, nc net.Conn, o options) (*Conn, error) {
	c := &Conn{nc: nc, tr: o.tr, opts: connOpts{timeout: o.timeout, pairGrace: o.pairGrace, strict: o.strict, pairing: o.pairing, noProbs: o.noProbs, onPort: o.onPort}}
	c.rr.init(nc, o.bufSize)
	c.rr.SetLimits(o.maxLine, o.maxReply)
	if o.pairing {
		c.pair = &pairing{}
		c.pair.owe("greeting")
	}
	if o.tlsCfg != nil {
		c.tls = newTLSState(o, nc)
		if err := c.startTLS(ctx, o.tlsMode, false); err != nil {
			nc.Close()
			return nil, err
		}
	}
	if o.noGreet {
		return c, nil
	}
	for {
		r, err := c.ReadReply(ctx)
		if err != nil {
			nc.Close()
			return nil, c.wrap("greeting", err)
		}
		switch {
		case r.Code == 120:
			continue
		case r.Code == 220:
			c.greeting = &r
			if err := c.startTLS(ctx, o.tlsMode, true); err != nil {
				c.nc.Close()
				return nil, err
			}
			return c, nil
		case r.Code == 421:
			nc.Close()
			return nil, &OpError{Op: "greeting", Err: fmt.Errorf("%w: %s", ErrRefused, r), Reply: &r, Transcript: c.tr}
		default:
			nc.Close()
			return nil, &OpError{Op: "greeting", Err: fmt.Errorf("unexpected greeting %s", r), Reply: &r, Transcript: c.tr}
		}
	}
}

// OpError is a failed operation with the session transcript attached.
type OpError struct {
	Op         string
	Err        error
	Reply      *Reply
	Transcript *Transcript
}

func (e *OpError) Error() string { return fmt.Sprintf("ftp %s: %v", e.Op, e.Err) }
func (e *OpError) Unwrap() error { return e.Err }

// ReplyError is returned by helpers such as Login when the server answered
// with a code the helper did not expect.
type ReplyError struct {
	Cmd   string
	Reply Reply
}

func (e *ReplyError) Error() string { return fmt.Sprintf("%s: unexpected reply %s", e.Cmd, e.Reply) }

func (c *Conn) wrap(op string, err error) error {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		pe.Transcript = c.tr
		return err
	}
	var oe *OpError
	if errors.As(err, &oe) {
		return err
	}
	return &OpError{Op: op, Err: err, Transcript: c.tr}
}

// withDefaultDeadline gives ctx a deadline when it has none.
func withDefaultDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// arm applies ctx's deadline (or the default timeout) to the socket and
// makes cancellation interrupt blocked I/O. The returned func disarms.
func (c *Conn) arm(ctx context.Context) func() {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(c.opts.timeout)
	}
	c.nc.SetDeadline(dl)
	if ctx.Done() == nil {
		// never cancelled (context.Background): no watcher to arm
		return func() {}
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		c.nc.SetDeadline(time.Unix(1, 0))
	})
	return func() {
		// If the callback already started, wait for it: otherwise its past
		// deadline could land after the next operation armed its own and
		// fail that operation at once.
		if !stop() {
			<-fired
		}
	}
}

// Greeting is the 220 reply read by Dial.
func (c *Conn) Greeting() Reply {
	if c.greeting == nil {
		return Reply{}
	}
	return *c.greeting
}

// Transcript is the session's record.
func (c *Conn) Transcript() *Transcript { return c.tr }

// NetConn is the control stream, for checks that must misbehave
// (urgent data, half-close, abrupt reset): a *tls.Conn while the control
// connection is TLS (TCPConn is the socket under it).
func (c *Conn) NetConn() net.Conn { return c.nc }

// RemoteIP is the control connection's peer address.
func (c *Conn) RemoteIP() net.IP { return c.nc.RemoteAddr().(*net.TCPAddr).IP }

// LocalIP is the control connection's local address.
func (c *Conn) LocalIP() net.IP { return c.nc.LocalAddr().(*net.TCPAddr).IP }

// SetTimeout changes the default per-operation timeout (not while an
// operation runs).
func (c *Conn) SetTimeout(d time.Duration) { c.opts.timeout = d }

// Timeout is the default per-operation timeout.
func (c *Conn) Timeout() time.Duration { return c.opts.timeout }

// Problems returns every malformed reply seen (lenient mode collects them;
// strict mode also records them before returning the error).
func (c *Conn) Problems() []Reply {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Reply(nil), c.problems...)
}

// Cmd sends one command line and reads its first reply. A preliminary (1xx)
// reply is returned as is; read the completion with ReadReply.
func (c *Conn) Cmd(ctx context.Context, verb string, args ...string) (Reply, error) {
	line := verb
	switch len(args) {
	case 0:
	case 1:
		line += " " + args[0]
	default:
		line += " " + strings.Join(args, " ")
	}
	if err := c.SendLine(ctx, line); err != nil {
		return Reply{}, err
	}
	return c.ReadReply(ctx)
}

// Expect sends a command and returns a *ReplyError unless the reply code is
// one of codes.
func (c *Conn) Expect(ctx context.Context, codes []int, verb string, args ...string) (Reply, error) {
	r, err := c.Cmd(ctx, verb, args...)
	if err != nil {
		return r, err
	}
	if !r.Is(codes...) {
		return r, &ReplyError{Cmd: verb, Reply: r}
	}
	return r, nil
}

// SendLine writes line followed by CRLF.
func (c *Conn) SendLine(ctx context.Context, line string) error {
	if c.opts.pairing {
		c.resync(ctx)
		c.noteSent(line)
	}
	c.tr.Add(Sent, line)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = append(append(c.wbuf[:0], line...), '\r', '\n')
	err := c.write(ctx, c.wbuf)
	if cap(c.wbuf) > 512 {
		c.wbuf = nil // an odd long line: do not keep its buffer
	}
	return err
}

// WriteRaw writes bytes exactly as given (pipelining, split commands,
// Telnet sequences, garbage). They are recorded in the transcript escaped.
func (c *Conn) WriteRaw(ctx context.Context, b []byte) error {
	if c.opts.pairing {
		c.resync(ctx)
		c.noteRaw(b)
	}
	c.tr.Add(Sent, fmt.Sprintf("raw %q", truncate(maskPASS(b), 200)))
	return c.write(ctx, b)
}

// maskPASS masks every PASS argument in b (after any CR, LF or NUL, as
// SEC-005 sends them); Transcript.Add then masks the registered secrets,
// quoted or not.
func maskPASS(b []byte) []byte { return []byte(MaskPASS(string(b))) }

func (c *Conn) write(ctx context.Context, b []byte) error {
	defer c.arm(ctx)()
	if _, err := c.nc.Write(b); err != nil {
		c.tr.Notef("write failed: %v", err)
		return c.wrap("write", withCancel(ctx, err))
	}
	return nil
}

// ReadReply reads the next reply.
func (c *Conn) ReadReply(ctx context.Context) (Reply, error) {
	if !c.opts.pairing {
		return c.readReply(ctx)
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	r, err := c.readReply(ctx)
	c.noteRead(r, err)
	return r, err
}

func (c *Conn) readReply(ctx context.Context) (Reply, error) {
	defer c.arm(ctx)()
	r, err := c.rr.ReadReply()
	if c.tr != nil {
		for _, l := range r.Lines {
			c.tr.Add(Received, l)
		}
	}
	if err != nil {
		c.tr.Notef("read failed: %v", err)
		c.noteUnframed(err)
		return r, c.wrap("read reply", withCancel(ctx, err))
	}
	if len(r.Problems) > 0 {
		if c.tr != nil {
			c.tr.Notef("malformed reply: %s", strings.Join(r.Problems, "; "))
		}
		if !c.opts.noProbs {
			c.mu.Lock()
			c.problems = append(c.problems, r)
			c.mu.Unlock()
		}
		if c.opts.strict {
			rc := r
			return r, &ProtocolError{Kind: "malformed", Msg: strings.Join(r.Problems, "; "), Raw: r.Raw, Reply: &rc, Transcript: c.tr}
		}
	}
	return r, nil
}

// Unframed returns the lines that could not start a reply: no three-digit
// code (e.g. a reply's text continued on a line of its own without
// "ddd-"). They are not replies, so they are not among Problems; the
// read that met one returned a *ProtocolError of kind "bad-code". Telnet
// commands (a line starting with IAC: the server refusing an option, RFC
// 854) are left out.
func (c *Conn) Unframed() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.unframed...)
}

// maxUnframed bounds the lines kept for Unframed per connection.
const maxUnframed = 16

func (c *Conn) noteUnframed(err error) {
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Kind != "bad-code" || bytes.HasPrefix(pe.Raw, []byte{0xff}) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.unframed) < maxUnframed {
		c.unframed = append(c.unframed, bytes.Clone(truncate(pe.Raw, 512)))
	}
}

// Login sends USER and, after 331, PASS. It succeeds on 230 (or 202).
func (c *Conn) Login(ctx context.Context, user, pass string) error {
	r, err := c.Cmd(ctx, "USER", user)
	if err != nil {
		return err
	}
	if r.Code == 230 {
		return nil
	}
	if r.Code != 331 && r.Code != 332 {
		return &ReplyError{Cmd: "USER", Reply: r}
	}
	r, err = c.Cmd(ctx, "PASS", pass)
	if err != nil {
		return err
	}
	if r.Code != 230 && r.Code != 202 {
		return &ReplyError{Cmd: "PASS", Reply: r}
	}
	return nil
}

// Quit sends QUIT, reads the reply and closes the connection.
func (c *Conn) Quit(ctx context.Context) (Reply, error) {
	r, err := c.Cmd(ctx, "QUIT")
	c.Close()
	return r, err
}

// Close closes the control connection without QUIT.
func (c *Conn) Close() error {
	c.tr.Notef("close control connection")
	return c.nc.Close()
}

// ReadEOF waits (under ctx) for the server to close the control connection
// and returns nil if it did. Any bytes that arrive first are returned in
// the error.
func (c *Conn) ReadEOF(ctx context.Context) error {
	defer c.arm(ctx)()
	buf := make([]byte, 512)
	n, err := c.rr.br.Read(buf)
	if n > 0 {
		c.tr.Add(Received, string(buf[:n]))
		return fmt.Errorf("expected close, got %q", buf[:n])
	}
	if err != nil && isEOFish(err) {
		c.tr.Notef("server closed the control connection")
		return nil
	}
	return c.wrap("await close", withCancel(ctx, err))
}

func isEOFish(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return errors.Is(err, errEOF) || strings.Contains(s, "EOF") || strings.Contains(s, "connection reset")
}
