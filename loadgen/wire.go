package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ftpharness/ftpharness/ftp"
)

// The generator speaks FTP through this small control client instead of
// ftp.Conn: ftp.Conn keeps a transcript of every line (right for a
// conformance check, a measurable cost at tens of thousands of cycles per
// second and a memory cost per held session). Address parsing and the data
// dialer (IP_BIND_ADDRESS_NO_PORT) are the foundation's.

// maxReply bounds one reply (all its lines) read from a server.
const maxReply = 64 << 10

// reply is one complete server reply, kept small.
type reply struct {
	Code int
	Raw  string // all lines, CRLF included, as received (capped)
}

// Text is the first line without its code and CRLF.
func (r reply) Text() string {
	s := r.Raw
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			s = s[:i]
			break
		}
	}
	if len(s) > 0 && s[len(s)-1] == '\r' {
		s = s[:len(s)-1]
	}
	if len(s) >= 4 {
		return s[4:]
	}
	return ""
}

// Line is the reply rendered on one line (multi-line joined with " | ").
func (r reply) Line() string {
	var b []byte
	for i := 0; i < len(r.Raw); i++ {
		switch c := r.Raw[i]; c {
		case '\r':
		case '\n':
			if i != len(r.Raw)-1 {
				b = append(b, " | "...)
			}
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// ReplyError is an FTP reply the scenario did not expect (4xx, 5xx, or a
// success code in the wrong place).
type ReplyError struct {
	Cmd  string
	Code int
	Raw  string
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("%s: unexpected reply %s", e.Cmd, reply{Code: e.Code, Raw: e.Raw}.Line())
}

// ProtocolError is a reply that cannot be framed or parsed.
type ProtocolError struct {
	What string
	Raw  string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("protocol violation: %s (raw %q)", e.What, truncate(e.Raw, 120))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// ctrl is a control connection.
type ctrl struct {
	nc      net.Conn
	br      *bufio.Reader
	timeout time.Duration
	local   net.IP
	remote  net.IP
	wbuf    []byte
	stop    func() bool
}

// dialCtrl connects from local (nil: any) to addr. The greeting is not read.
// hard, when it is cancelled, interrupts any blocked I/O on the connection.
func dialCtrl(ctx context.Context, hard context.Context, addr string, local net.IP, timeout time.Duration) (*ctrl, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := dialTCP(dctx, addr, local)
	if err != nil {
		return nil, err
	}
	c := &ctrl{nc: nc, br: newReader(nc), timeout: timeout, local: local}
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		c.remote = ta.IP
	}
	if hard != nil {
		c.stop = context.AfterFunc(hard, func() { nc.SetDeadline(time.Unix(1, 0)) })
	}
	return c, nil
}

func (c *ctrl) close() {
	if c == nil || c.nc == nil {
		return
	}
	if c.stop != nil {
		c.stop()
	}
	c.nc.Close()
}

func (c *ctrl) arm() { c.nc.SetDeadline(time.Now().Add(c.timeout)) }

// send writes one command line.
func (c *ctrl) send(line string) error {
	c.arm()
	c.wbuf = append(append(c.wbuf[:0], line...), '\r', '\n')
	_, err := c.nc.Write(c.wbuf)
	return err
}

// read reads one complete reply (RFC 959 §4.2: "xyz-" opens a multi-line
// reply that ends at a line starting "xyz ").
func (c *ctrl) read() (reply, error) {
	c.arm()
	var raw []byte
	code := 0
	for {
		line, err := c.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// a long line: keep reading it
			buf := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull && len(raw)+len(buf) < maxReply {
				line, err = c.br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			line = buf
		}
		if err != nil {
			if err == bufio.ErrBufferFull {
				return reply{Code: code, Raw: string(raw)}, &ProtocolError{What: "reply too large", Raw: string(raw)}
			}
			if len(raw)+len(line) > 0 && (err == io.EOF) {
				return reply{Code: code, Raw: string(raw) + string(line)}, &ProtocolError{What: "connection closed mid-reply", Raw: string(raw) + string(line)}
			}
			return reply{Code: code, Raw: string(raw)}, err
		}
		raw = append(raw, line...)
		if len(raw) > maxReply {
			return reply{Code: code, Raw: string(raw[:200])}, &ProtocolError{What: "reply too large", Raw: string(raw[:200])}
		}
		if code == 0 {
			if len(line) < 4 || !digits3(line) || (line[3] != ' ' && line[3] != '-' && line[3] != '\r' && line[3] != '\n') {
				return reply{Raw: string(raw)}, &ProtocolError{What: "reply line without a code", Raw: string(raw)}
			}
			code, _ = strconv.Atoi(string(line[:3]))
			if line[3] != '-' {
				return reply{Code: code, Raw: string(raw)}, nil
			}
			continue
		}
		if len(line) >= 4 && digits3(line) && line[3] == ' ' && int(line[0]-'0')*100+int(line[1]-'0')*10+int(line[2]-'0') == code {
			return reply{Code: code, Raw: string(raw)}, nil
		}
	}
}

func digits3(b []byte) bool {
	return len(b) >= 3 && b[0] >= '1' && b[0] <= '5' && b[1] >= '0' && b[1] <= '9' && b[2] >= '0' && b[2] <= '9'
}

// cmd sends a command and reads its reply.
func (c *ctrl) cmd(line string) (reply, error) {
	if err := c.send(line); err != nil {
		return reply{}, err
	}
	return c.read()
}

// expect sends a command and returns a *ReplyError unless the reply is one
// of codes.
func (c *ctrl) expect(line string, codes ...int) (reply, error) {
	r, err := c.cmd(line)
	if err != nil {
		return r, err
	}
	for _, k := range codes {
		if r.Code == k {
			return r, nil
		}
	}
	return r, &ReplyError{Cmd: verbOf(line), Code: r.Code, Raw: r.Raw}
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
func (c *ctrl) greeting() (reply, error) {
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
			return r, &ReplyError{Cmd: "greeting", Code: r.Code, Raw: r.Raw}
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
		return &ReplyError{Cmd: "USER", Code: r.Code, Raw: r.Raw}
	}
	_, err = c.expect("PASS "+pass, 230, 202)
	return err
}

// passive sends PASV or EPSV and returns the advertised endpoint (EPSV:
// the control peer's address).
func (c *ctrl) passive(epsv bool) (ftp.Endpoint, reply, error) {
	verb, want := "PASV", 227
	if epsv {
		verb, want = "EPSV", 229
	}
	r, err := c.cmd(verb)
	if err != nil {
		return ftp.Endpoint{}, r, err
	}
	if r.Code != want {
		return ftp.Endpoint{}, r, &ReplyError{Cmd: verb, Code: r.Code, Raw: r.Raw}
	}
	if epsv {
		p, err := ftp.ParseEPSV(r.Text())
		if err != nil {
			return ftp.Endpoint{}, r, &ProtocolError{What: "bad 229: " + err.Error(), Raw: r.Raw}
		}
		return ftp.Endpoint{IP: c.remote, Port: p}, r, nil
	}
	ep, err := ftp.ParsePASV(r.Text())
	if err != nil {
		return ftp.Endpoint{}, r, &ProtocolError{What: "bad 227: " + err.Error(), Raw: r.Raw}
	}
	return ep, r, nil
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
	ip := c.remote
	if strict && ep.IP != nil && !ep.IP.Equal(c.remote) {
		if !remote {
			return "", classError{ClassAddrMismatch, "data address " + ep.IP.String() + " advertised, not the control peer " +
				c.remote.String() + ": not dialled (--allow-remote-data dials it)"}
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
	d := net.Dialer{KeepAlive: -1}
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

func newReader(nc net.Conn) *bufio.Reader { return bufio.NewReaderSize(nc, 512) }
