package faulty

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"crypto/tls"

	"golang.org/x/sys/unix"

	"github.com/ftpharness/ftpharness/ftp"
)

// session is one client control connection and its upstream twin.
//
// The client side is read line by line; every command line becomes an
// entry in a FIFO of outstanding commands, and is forwarded upstream
// unless a fault answers it locally. The writer takes replies from the
// server in order and matches them to the head of the FIFO (a 1xx leaves
// it there), so locally answered commands are interleaved at the right
// place and rewriting knows which command a reply answers.
type session struct {
	p        *Proxy
	id       int
	cc       *net.TCPConn // client control
	uc       *net.TCPConn // upstream control
	clientIP net.IP       // the control client's address
	localIP  net.IP       // the proxy's address on cc (advertised in 227)
	upHost   string       // the server's address (data connections go there)

	// FTPS (tls.go): the streams the control connections carry (cc and
	// uc until TLS starts), the switches readClient and readUpstream wait
	// on across an AUTH, and the security state of the session.
	streamMu     sync.Mutex
	cs, us       net.Conn
	cbr          *bufio.Reader // readClient's reader (bytes past AUTH)
	upSwitch     chan net.Conn // the server's stream after a 234 (nil: unchanged)
	clientSwitch chan net.Conn // the client's stream after AUTH (nil: unchanged)
	upCfg        *tls.Config   // towards the server, with the session's cache
	upFresh      *tls.Config   // the same without a cache (no resumption)
	cccOut       atomic.Bool   // a CCC under TLS awaits its reply
	upPaused     bool          // readUpstream waits on upSwitch (writer only)
	authed       bool          // AUTH succeeded (guarded by mu)
	pbsz         bool          // PBSZ accepted since (guarded by mu)
	protP        bool          // PROT P in effect (guarded by mu)
	userSeen     bool          // a USER was sent (guarded by mu)
	loginCarried bool          // tls-login-survives-auth: PWD answered 257 (guarded by mu)
	dropXfer     bool          // tls-data-fresh-hang: drop the transfer's reply (guarded by mu)

	mu       sync.Mutex
	queue    []*entry
	kick     chan struct{}
	loggedIn bool
	hosts    int // HOST commands before login (host-repeat-refused)
	epsvAll  bool
	forgot   bool // seq-epsv-all-forgotten: an ABOR or failed transfer happened
	prevVerb string
	typeA    bool   // the client's last TYPE named A (ascii-double-cr)
	lastXfer string // the verb of the client's last transfer command
	commands int    // command lines the client sent (seq-greeting-repeated)
	quit221  bool   // the server answered QUIT 221 (seq-quit-keeps-open)
	relays   map[*relay]bool

	listener *plistener // current passive listener; guarded by p.mu
	passiveN int        // passive replies rewritten (pasv-port-unpublished); writer goroutine only
	// pendingPassive counts the PASV/EPSV forwarded upstream whose final
	// reply is not rewritten yet: while one is out, the server may be
	// handing out a port again (see plistener.superseded)
	pendingPassive atomic.Int32
	// relaysDialing counts data connections accepted from the client whose
	// upstream dial has not yet ended in a registered relay.
	relaysDialing atomic.Int32

	done      chan struct{}
	closeOnce sync.Once
	clientEOF chan struct{} // closed once the client's EOF was passed upstream
}

type entry struct {
	verb    string // upper case; "" for the greeting
	arg     string
	local   []byte // the proxy answers with this instead of the server
	prelim  bool   // a 1xx was relayed for it
	asPASV  bool   // the client sent PASV, the server got EPSV: answer 227
	silent  bool   // sent by the proxy itself: the reply is not forwarded
	tlsWait bool   // AUTH forwarded under TLS: readClient waits for the outcome
	after   func() // run by the writer once the local answer is sent
	clear   bool   // the local answer goes on the TCP connection, outside TLS
	at      time.Time
}

func newSession(p *Proxy, cc *net.TCPConn) *session {
	return &session{
		p:            p,
		cc:           cc,
		clientIP:     cc.RemoteAddr().(*net.TCPAddr).IP,
		localIP:      cc.LocalAddr().(*net.TCPAddr).IP,
		kick:         make(chan struct{}, 1),
		relays:       map[*relay]bool{},
		done:         make(chan struct{}),
		clientEOF:    make(chan struct{}),
		cs:           cc,
		upSwitch:     make(chan net.Conn, 1),
		clientSwitch: make(chan net.Conn, 1),
	}
}

// client and server are the streams to write to: the TCP connections, or
// TLS over them once it started.
func (s *session) client() net.Conn {
	s.streamMu.Lock()
	defer s.streamMu.Unlock()
	return s.cs
}

func (s *session) server() net.Conn {
	s.streamMu.Lock()
	defer s.streamMu.Unlock()
	return s.us
}

func (s *session) setStreams(c, u net.Conn) {
	s.streamMu.Lock()
	s.cs, s.us = c, u
	s.streamMu.Unlock()
}

// ctlTLS reports whether the server's control stream is TLS.
func (s *session) ctlTLS() bool {
	_, ok := s.server().(*tls.Conn)
	return ok
}

func (s *session) logf(format string, args ...any) {
	s.p.logf("session %d: "+format, append([]any{s.id}, args...)...)
}

func setOOBInline(c *net.TCPConn) {
	if rc, err := c.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_OOBINLINE, 1) })
	}
}

func (s *session) run() {
	defer s.shutdown()
	ctx, cancel := context.WithTimeout(s.p.ctx, s.p.cfg.dialTO)
	// Dial from the client's address, so the server sees the same peer.
	nc, err := ftp.DialTCP(ctx, s.p.upstream, s.clientIP)
	if err != nil {
		nc, err = ftp.DialTCP(ctx, s.p.upstream, nil)
	}
	cancel()
	if err != nil {
		s.logf("upstream %s: %v", s.p.upstream, err)
		s.cc.Write([]byte("421 Service not available (proxy cannot reach the server).\r\n"))
		return
	}
	s.uc = nc.(*net.TCPConn)
	s.setStreams(s.cc, s.uc)
	if s.p.tls != nil {
		s.upCfg = s.upstreamConfig()
		s.upFresh = s.upCfg.Clone()
		s.upFresh.ClientSessionCache = nil
		if s.p.tls.mode == ftp.TLSImplicit {
			if err := s.startImplicit(); err != nil {
				s.logf("implicit FTPS: %v", err)
				return
			}
		}
	}
	s.upHost = s.uc.RemoteAddr().(*net.TCPAddr).IP.String()
	setOOBInline(s.cc)
	s.logf("%s -> %s: upstream %s -> %s", s.cc.RemoteAddr(), s.cc.LocalAddr(), s.uc.LocalAddr(), s.uc.RemoteAddr())
	defer s.logf("ended")
	s.push(&entry{verb: "", at: time.Now()}) // the greeting

	replies := make(chan upReply)
	go s.readUpstream(replies)
	go s.readClient()
	s.writeLoop(replies)
	s.holdAfterQuit()
}

// shutdown ends the session: both control connections are closed and its
// passive listeners released. Data connections in flight finish on their
// own (a transfer may outlive QUIT).
func (s *session) shutdown() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.cc.Close()
		if s.uc != nil {
			s.uc.Close()
		}
		s.p.releaseSession(s)
		if s.p.ctx.Err() != nil {
			s.mu.Lock()
			for r := range s.relays {
				r.kill()
			}
			s.mu.Unlock()
		}
	})
}

func (s *session) push(e *entry) {
	s.mu.Lock()
	s.queue = append(s.queue, e)
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *session) head() *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return nil
	}
	return s.queue[0]
}

func (s *session) pop(e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) > 0 && s.queue[0] == e {
		s.queue = s.queue[1:]
	}
}

func (s *session) addRelay(r *relay) {
	s.mu.Lock()
	s.relays[r] = true
	s.mu.Unlock()
}

func (s *session) removeRelay(r *relay) {
	s.mu.Lock()
	delete(s.relays, r)
	s.mu.Unlock()
}

// relaying reports whether a data connection of s still carries data from
// the server: a relay whose server side already closed is over, even while
// its goroutine has yet to unregister it (under load that lags the 226).
func (s *session) relaying() bool {
	for _, r := range s.relaySnapshot() {
		if !r.upEOF.Load() {
			return true
		}
	}
	return false
}

func (s *session) relaySnapshot() []*relay {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*relay, 0, len(s.relays))
	for r := range s.relays {
		out = append(out, r)
	}
	return out
}

// ---------------------------------------------------------------------
// client -> server

// upReply is a server reply as readUpstream hands it to the writer:
// paused says readUpstream waits on upSwitch after it (the reply may
// change the control connection's TLS: a 234, or the reply to a CCC).
type upReply struct {
	ftp.Reply
	paused bool
}

func (s *session) readUpstream(out chan<- upReply) {
	defer close(out)
	rr := ftp.NewReplyReader(s.server(), 64<<10)
	for {
		r, err := rr.ReadReply()
		// AUTH accepted (the next bytes are the server's TLS handshake) or
		// a CCC answered: the writer says how the stream goes on
		paused := err == nil && s.p.tls != nil &&
			(r.Code == 234 && !s.ctlTLS() || r.Code/100 != 1 && s.cccOut.Load())
		if len(r.Raw) > 0 {
			select {
			case out <- upReply{Reply: r, paused: paused}:
			case <-s.done:
				return
			}
		}
		if paused {
			select {
			case up := <-s.upSwitch:
				if up != nil {
					rr = ftp.NewReplyReader(up, 64<<10)
				}
			case <-s.done:
				return
			}
		}
		if err != nil && !framingOnly(err) {
			return
		}
	}
}

// framingOnly reports a reply the reader could not frame as a whole but
// whose bytes it returned (a first line without a code, an over-long line
// or reply, forwarded in pieces with code 0 or the code it began with):
// the proxy forwards those bytes as the server sent them and reads on.
// Anything else (EOF, also in the middle of a reply, a network error)
// ends the session once the bytes read are forwarded.
func framingOnly(err error) bool {
	var pe *ftp.ProtocolError
	return errors.As(err, &pe) && (pe.Kind == "bad-code" || pe.Kind == "line-too-long" || pe.Kind == "reply-too-large")
}

func (s *session) readClient() {
	br := bufio.NewReaderSize(s.client(), 4096)
	s.cbr = br
	cont := false // inside an overlong line: forward as is
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			line := append([]byte(nil), chunk...)
			complete := line[len(line)-1] == '\n'
			switch {
			case cont:
				s.forward(line)
			case !complete:
				// An overlong line (or a partial one at EOF): one entry,
				// forwarded untouched.
				verb, arg := parseCommand(line)
				if verb != "" && (err == nil || errors.Is(err, bufio.ErrBufferFull)) {
					s.push(&entry{verb: verb, arg: arg, at: time.Now()})
				}
				s.forward(line)
			default:
				if s.command(line) {
					// AUTH under TLS: the client's next bytes are its
					// handshake, which the writer runs (upgrade)
					select {
					case cl := <-s.clientSwitch:
						if cl != nil {
							br = bufio.NewReaderSize(cl, 4096)
						}
					case <-s.done:
						return
					}
				}
			}
			cont = !complete
		}
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			// The client is gone: tell the server, and give it a while to
			// finish (a transfer may still end with 226 and 221).
			if s.uc != nil {
				closeWrite(s.server())
			}
			close(s.clientEOF)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				s.shutdown()
			}
			return
		}
	}
}

// parseCommand extracts the verb (upper case) and argument of a command
// line, skipping Telnet IAC sequences and stray bytes before the verb.
func parseCommand(line []byte) (verb, arg string) {
	i := 0
	for i < len(line) {
		c := line[i]
		if c == 0xFF && i+1 < len(line) {
			if line[i+1] >= 0xFB && line[i+1] <= 0xFE {
				i += 3
			} else {
				i += 2
			}
			continue
		}
		if (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') {
			break
		}
		i++
	}
	if i >= len(line) {
		return "", ""
	}
	rest := strings.TrimRight(string(line[i:]), "\r\n")
	verb, arg, _ = strings.Cut(rest, " ")
	return strings.ToUpper(verb), arg
}

var knownVerbs = map[string]bool{}

func init() {
	for _, v := range strings.Fields(`ABOR ACCT ADAT ALLO APPE AUTH AVBL CCC CDUP CLNT CONF CSID CWD DELE DSIZ ENC EPRT EPSV
		FEAT HASH HELP HOST LANG LIST LPRT LPSV MDTM MFCT MFF MFMT MIC MKD MLSD MLST MODE NLST NOOP OPTS PASS
		PASV PBSZ PORT PROT PWD QUIT REIN REST RETR RMD RMDA RNFR RNTO SITE SIZE SMNT SPSV STAT STOR STOU STRU
		SYST THMB TYPE USER XCRC XCUP XCWD XMD5 XMKD XPWD XRMD XRCP XRSQ XSEM XSEN XSHA1 XSHA256 XSHA512 MD5 COMB`) {
		knownVerbs[v] = true
	}
}

func alpha(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

var transferVerbs = map[string]bool{"RETR": true, "STOR": true, "STOU": true, "APPE": true, "LIST": true, "NLST": true, "MLSD": true}

// command handles one complete command line from the client. It reports
// an AUTH forwarded under TLS, whose outcome readClient must wait for.
func (s *session) command(line []byte) (tlsWait bool) {
	verb, arg := parseCommand(line)
	if s.p.cfg.trace {
		// the trace goes to ftpfaulty -v's stderr and test logs: no password
		s.logf("> %q", ftp.MaskPASS(string(line)))
	}
	if verb == "" {
		// Blank lines get no reply from most servers: no entry.
		s.forward(line)
		return false
	}
	b := s.p.b
	if verb == "ABOR" && (b.aborHeld || b.aborPlainHeld && bytes.IndexByte(line, 0xFF) < 0) {
		s.awaitDownloads()
	}
	e := &entry{verb: verb, arg: arg, at: time.Now()}
	s.mu.Lock()
	prev := s.prevVerb
	s.prevVerb = verb
	s.commands++
	switch {
	case verb == "USER":
		s.userSeen, s.loginCarried = true, false
	case verb == "TYPE":
		s.typeA = strings.HasPrefix(strings.ToUpper(strings.TrimSpace(arg)), "A")
	case transferVerbs[verb]:
		s.lastXfer = verb
	}
	loggedIn, epsvAll, forgot := s.loggedIn, s.epsvAll, s.forgot
	if verb == "ABOR" {
		for r := range s.relays {
			r.aborted.Store(true)
		}
		if epsvAll {
			s.forgot = true
		}
	}
	s.mu.Unlock()
	if b.quitDrops && verb == "QUIT" && s.relaying() {
		s.logf("xfer-quit-drops-transfer: QUIT during a transfer, 221 and close")
		s.client().Write([]byte("221 Goodbye.\r\n"))
		s.shutdown()
		return false
	}
	if b.aborDrops && verb == "ABOR" && (transferVerbs[prev] || s.relaying()) {
		// the transfer may be over at the server (fast servers fill the
		// socket buffers) while the client is still reading it
		s.logf("abor-drops-session: ABOR after %s, closing the control connection", prev)
		s.shutdown()
		return false
	}
	fwd := line
	if verb == "HOST" && b.host != 0 {
		e.local = s.hostCommand(arg)
	}
	switch {
	case b.unknown200 && !knownVerbs[verb] && alpha(verb) && len(line) < 512:
		e.local = []byte("200 Command okay.\r\n")
	case b.rntoNoRnfr && verb == "RNTO" && prev != "RNFR":
		e.local = []byte("250 Requested file action okay, completed.\r\n")
	case b.pasvBeforeLogin && !loggedIn && (verb == "PASV" || verb == "EPSV") && strings.TrimSpace(arg) == "":
		e.local = s.localPassive(verb == "EPSV")
	case b.epsvAllRefuse && verb == "EPSV" && strings.EqualFold(strings.TrimSpace(arg), "ALL"):
		e.local = []byte("502 EPSV ALL not implemented.\r\n")
	case b.pasvV6Address && verb == "PASV" && s.ipv6() && strings.TrimSpace(arg) == "" && !epsvAll:
		e.asPASV = true // answered with an IPv6 address (rewritePassive)
		fwd = []byte("EPSV\r\n")
	case verb == "PASV" && epsvAll && (b.pasvAfterEpsvAll || (b.forgetEpsvAll && forgot)):
		e.asPASV = true
		fwd = []byte("EPSV\r\n")
	case s.p.tls != nil && s.tlsCommand(e, &fwd):
	default:
		if a := s.answerLocally(verb, arg, loggedIn); a != nil {
			e.local = a
		} else if l, ok := s.rewriteCommand(verb, arg); ok {
			fwd = l
		} else if l, ok := s.activeCommand(verb, arg); ok {
			fwd = l // FTPS only (tls_active.go)
		}
	}
	if e.local == nil && s.p.tls != nil {
		switch tlsOn := s.ctlTLS(); {
		case verb == "AUTH" && !tlsOn:
			e.tlsWait = true
		case verb == "CCC" && tlsOn:
			e.tlsWait = true
			s.cccOut.Store(true)
		}
	}
	s.push(e)
	if e.local == nil {
		if verb == "PASV" || verb == "EPSV" {
			s.pendingPassive.Add(1)
		}
		s.forward(fwd)
	}
	return e.tlsWait
}

// awaitDownloads blocks the reading of client commands until every
// download relayed for the session has ended (abor-plain-ignored,
// abor-deferred: the server reads the control connection again only after
// the transfer). It gives up when the session ends or after a minute.
func (s *session) awaitDownloads() {
	deadline := time.After(time.Minute)
	for _, r := range s.relaySnapshot() {
		select {
		case <-r.downDone:
		case <-s.done:
			return
		case <-deadline:
			return
		}
	}
}

// asciiDownload reports whether the session's current download is a TYPE A
// RETR (asked when the first byte of it arrives, so the RETR has been
// sent).
func (s *session) asciiDownload() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.typeA && s.lastXfer == "RETR"
}

// forward writes client bytes upstream. A Telnet "IAC DM" (Synch) is sent
// with its DM byte as TCP urgent data, as the client most likely did (the
// urgent mark itself is lost when the proxy reads the stream inline).
func (s *session) forward(b []byte) {
	if up := s.server(); up != net.Conn(s.uc) {
		up.Write(b) // TLS: no urgent data outside the record stream
		return
	}
	if i := bytes.Index(b, []byte{0xFF, 0xF2}); i >= 0 {
		s.uc.Write(b[:i+1])
		if rc, err := s.uc.SyscallConn(); err == nil {
			rc.Write(func(fd uintptr) bool {
				err := unix.Send(int(fd), b[i+1:i+2], unix.MSG_OOB)
				return !errors.Is(err, unix.EAGAIN)
			})
		}
		b = b[i+2:]
		if len(b) == 0 {
			return
		}
	}
	s.uc.Write(b)
}

// ---------------------------------------------------------------------
// server -> client

func (s *session) writeLoop(replies <-chan upReply) {
	for {
		if h := s.head(); h != nil && h.local != nil {
			if h.clear {
				s.cc.Write(h.local)
			} else {
				s.send(h.local, h)
			}
			s.pop(h)
			if h.after != nil {
				h.after()
			}
			continue
		}
		select {
		case r, ok := <-replies:
			if !ok {
				return
			}
			s.upPaused = r.paused
			s.onReply(r.Reply)
		case <-s.kick:
		case <-s.done:
			return
		}
	}
}

func (s *session) onReply(r ftp.Reply) {
	b := s.p.b
	if s.p.cfg.trace {
		s.logf("< %q", r.Raw)
	}
	h := s.head()
	final := r.Code/100 != 1
	if h != nil {
		if final {
			s.pop(h)
		} else {
			h.prelim = true
		}
	}
	verb, arg := "", ""
	if h != nil {
		verb, arg = h.verb, h.arg
	}
	s.track(verb, arg, r.Code)
	if s.p.tls != nil && s.tlsReply(h, r) {
		return
	}
	if h != nil && h.silent {
		return // the answer to a command the proxy sent itself
	}

	out := r.Raw
	rw := s.rewriteReply(verb, arg, r)
	switch {
	case rw != nil:
		out = rw
	case r.Code == 227 || r.Code == 229:
		out = s.rewritePassive(h, r)
	case (r.Code == 421 || r.Code == 425) && (verb == "PASV" || verb == "EPSV") && b.exhaust != exhaust4xx:
		out = s.exhausted(verb == "EPSV", "", 0)
	case b.no226 && h != nil && transferVerbs[verb] && h.prelim && r.Code/100 == 2:
		s.logf("dropping %q", r.Lines[0])
		out = nil
	case b.statPath211 && verb == "STAT" && strings.TrimSpace(arg) != "" && (r.Code == 212 || r.Code == 213):
		out = recode(r, 211)
	case verb == "HOST" && b.host != 0 && hostReply(b.host, r) != nil:
		out = hostReply(b.host, r)
	case b.doubleError && (r.Code == 500 || r.Code == 501):
		out = append(append([]byte(nil), out...), out...)
	}
	if final && (verb == "PASV" || verb == "EPSV") {
		s.pendingPassive.Add(-1) // its listener (if any) is bound now
	}
	if out == nil {
		return
	}
	if !b.early226 && s.p.cfg.readAhead == 0 {
		s.waitData(final)
	}
	s.p.sync()
	s.send(out, h)
	if b.greetAgain && h != nil && h.verb == "" && final {
		go s.greetAgain(out)
	}
	if final {
		for _, rl := range s.relaySnapshot() {
			rl.markReplied()
		}
	}
}

// track follows the session state the faults depend on.
func (s *session) track(verb, arg string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case (verb == "USER" || verb == "PASS") && code == 230:
		s.loggedIn = true
	case verb == "REIN" && code/100 == 2:
		s.loggedIn, s.epsvAll, s.forgot, s.hosts = false, false, false, 0
	case verb == "EPSV" && strings.EqualFold(strings.TrimSpace(arg), "ALL") && code/100 == 2:
		s.epsvAll = true
	case transferVerbs[verb] && code >= 400 && s.epsvAll:
		s.forgot = true
	case verb == "QUIT" && code == 221:
		s.quit221 = true
	case verb == "PBSZ" && code/100 == 2:
		s.pbsz = true
	case verb == "PROT" && code/100 == 2:
		s.protP = strings.EqualFold(strings.TrimSpace(arg), "P")
	}
}

// waitData keeps reply order honest across the proxy: a completion reply
// the server sent after closing a data connection reaches the client only
// after the client's side of that data connection is closed too. A
// preliminary reply (125/150) opens the transfer and is never held: a
// server that wrote a whole file into the socket buffers and closed before
// the proxy read its 125 would otherwise wait on a client that reads the
// data only after the 125 (seen under load: RETR got no reply for 5 s).
func (s *session) waitData(final bool) {
	if !final {
		return
	}
	// A relay whose upstream dial just returned may not be registered yet,
	// while the server already sent its data, closed and replied.
	for i := 0; s.relaysDialing.Load() > 0 && i < 100; i++ {
		time.Sleep(time.Millisecond)
	}
	for _, r := range s.relaySnapshot() {
		if r.aborted.Load() {
			continue
		}
		closed := r.serverClosed()
		for i := 0; !closed && i < 5; i++ {
			time.Sleep(time.Millisecond)
			closed = r.serverClosed()
		}
		if !closed {
			continue
		}
		select {
		case <-r.downDone:
		case <-time.After(5 * time.Second):
		case <-s.done:
		}
	}
}

// send writes a reply to the client, applying the reply faults.
func (s *session) send(out []byte, h *entry) {
	b := s.p.b
	if b.multilineCode {
		out = changeLastCode(out)
	}
	if b.missingCR {
		out = bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n"))
	}
	cw := s.client()
	switch {
	case b.stallNOOP && h != nil && h.verb == "NOOP" && len(out) > 3:
		cw.Write(out[:3])
		select {
		case <-time.After(s.p.cfg.stall):
		case <-s.done:
			return
		}
		cw.Write(out[3:])
	case b.split:
		for len(out) > 0 {
			n := 1 + (len(out)*7+len(out)/3)%6
			if n > len(out) {
				n = len(out)
			}
			if _, err := cw.Write(out[:n]); err != nil {
				return
			}
			out = out[n:]
			if len(out) > 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
	default:
		cw.Write(out)
	}
}

// changeLastCode gives the last line of a multi-line reply a different
// code (third digit + 1).
func changeLastCode(raw []byte) []byte {
	lines := bytes.SplitAfter(raw, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if len(lines) < 2 || len(lines[0]) < 4 || lines[0][3] != '-' {
		return raw
	}
	last := lines[len(lines)-1]
	if len(last) < 3 || !digits3(last) {
		return raw
	}
	out := append([]byte(nil), raw[:len(raw)-len(last)]...)
	nl := append([]byte(nil), last...)
	nl[2] = '0' + (nl[2]-'0'+1)%10
	return append(out, nl...)
}

// ---------------------------------------------------------------------
// passive replies

// setListener makes l the session's current passive listener. A previous
// one follows the server's (sync), except one the proxy made up itself,
// which is closed now (RFC 959 §3.2) unless a fault keeps it.
func (s *session) setListener(l *plistener) {
	s.p.mu.Lock()
	old := s.listener
	s.listener = l
	local := false
	if old != nil {
		for _, b := range old.bindings {
			if b.s == s && b.upstream == "" {
				local = true
			}
		}
	}
	s.p.mu.Unlock()
	// pasv-port-unpublished picks the proxy's ports itself: the server may
	// hand out the same port again, which would keep the superseded proxy
	// listener open, so it is released here as the server released it.
	if old != nil && old != l && (local || s.p.b.unpublished) && !s.p.b.keepOld {
		s.p.release(s, old)
	}
}

func (s *session) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// listenIPs are the addresses a passive listener binds for adv being
// advertised: the proxy's own, and adv when it is another loopback address.
func (s *session) listenIPs(adv net.IP) []net.IP {
	ips := []net.IP{s.localIP}
	if adv != nil && adv.IsLoopback() && !adv.Equal(s.localIP) {
		ips = append(ips, adv)
	}
	return ips
}

// rewritePassive turns the server's 227/229 into one pointing at a proxy
// listener that relays to the server's.
func (s *session) rewritePassive(h *entry, r ftp.Reply) []byte {
	b := s.p.b
	epsv := r.Code == 229
	raw := string(r.Raw)
	var upPort int
	var span [2]int
	adv := s.localIP
	if epsv {
		p, sp, ok := findEPSV(raw)
		if !ok {
			return r.Raw // unparseable: the client will not parse it either
		}
		upPort, span = p, sp
	} else {
		ip, p, sp, ok := findPASV(raw)
		if !ok {
			return r.Raw
		}
		upPort, span = p, sp
		if up := net.ParseIP(s.upHost); !ip.Equal(up) {
			// not the server's own address (masquerade, 0.0.0.0, ...):
			// advertise it as is
			adv = ip
		}
	}
	if b.advertiseIP != "" {
		adv = net.ParseIP(b.advertiseIP)
	}
	ips := s.listenIPs(adv)
	if b.unbound {
		ips = s.listenIPs(nil)
	}
	mode := b.alloc
	unpublished := false
	if b.unpublished && s.p.upstreamInRange(upPort) {
		// half the range is published: the session's odd-numbered passive
		// replies get an even offset (published), the others an odd one
		s.passiveN++
		mode, unpublished = allocEven, s.passiveN%2 == 0
		if unpublished {
			mode = allocOdd
		}
	}
	upstream := net.JoinHostPort(s.upHost, strconv.Itoa(upPort))
	if b.cooldown {
		// the emulated server closes the listener this reply supersedes
		// before it binds the next: free its port first, or a range with
		// every other port cooling would look exhausted
		s.p.mu.Lock()
		old := s.listener
		s.p.mu.Unlock()
		s.p.release(s, old)
	}
	l, err := s.p.openPassive(s, ips, upstream, upPort, mode)
	if err != nil {
		s.logf("no proxy port for %s: %v", upstream, err)
		if b.cooldown {
			return []byte(replyAddrInUse)
		}
		return s.exhausted(epsv && (h == nil || !h.asPASV), upstream, upPort)
	}
	if unpublished {
		// not published: nothing accepts connections there (the port stays
		// the session's until the server drops its listener)
		l.closeSockets()
	}
	s.setListener(l)
	port := l.port
	if b.shift {
		port = s.p.shadowPort(port)
	}
	if h != nil && h.asPASV && b.pasvV6Address && s.ipv6() {
		return pasvV6Reply(adv, port)
	}
	if h != nil && h.asPASV {
		return []byte("227 " + ftp.FormatPASV(ftp.Endpoint{IP: adv, Port: port}) + "\r\n")
	}
	return s.formatPassive(epsv, adv, port, raw, span)
}

// pasvV6Reply is pyftpdlib's answer to PASV over IPv6 (pasv-v6-malformed-227):
// the IPv6 address where a 227's four address numbers belong, so no PASV
// client can parse it (RFC 959 §4.1.2, RFC 2428 §1).
func pasvV6Reply(ip net.IP, port int) []byte {
	return []byte(fmt.Sprintf("227 Entering passive mode (%s,%d,%d).\r\n", ip, port>>8, port&0xff))
}

// ipv6 reports whether the client's control connection is IPv6.
func (s *session) ipv6() bool { return s.localIP.To4() == nil }

func pasvNumbers(ip net.IP, port int) string {
	v4 := ip.To4()
	if v4 == nil {
		v4 = net.IPv4zero.To4()
	}
	return fmt.Sprintf("%d,%d,%d,%d,%d,%d", v4[0], v4[1], v4[2], v4[3], port>>8, port&0xff)
}

// formatPassive renders the passive reply the client gets. raw/span are
// the server's reply and where its numbers are, kept when no format fault
// applies (so the server's own wording reaches the client).
func (s *session) formatPassive(epsv bool, adv net.IP, port int, raw string, span [2]int) []byte {
	b := s.p.b
	v4 := adv.To4()
	if v4 == nil {
		v4 = net.IPv4zero.To4()
	}
	if epsv {
		if b.epsvBadDelims {
			return []byte(fmt.Sprintf("229 Entering Extended Passive Mode (||%d|)\r\n", port))
		}
		if raw == "" {
			return []byte("229 " + ftp.FormatEPSV(port) + "\r\n")
		}
		return []byte(raw[:span[0]] + strconv.Itoa(port) + raw[span[1]:])
	}
	switch b.pasvFormat {
	case formatFive:
		return []byte(fmt.Sprintf("227 Entering Passive Mode (%d,%d,%d,%d,%d).\r\n", v4[0], v4[1], v4[2], v4[3], port>>8))
	case formatOver255:
		return []byte(fmt.Sprintf("227 Entering Passive Mode (%d,%d,%d,%d,0,%d).\r\n", v4[0], v4[1], v4[2], v4[3], port))
	case formatNoParens:
		return []byte("227 Entering Passive Mode " + pasvNumbers(adv, port) + "\r\n")
	case format229:
		return []byte("229 " + ftp.FormatEPSV(port) + "\r\n")
	}
	if raw == "" {
		return []byte("227 " + ftp.FormatPASV(ftp.Endpoint{IP: adv, Port: port}) + "\r\n")
	}
	return []byte(raw[:span[0]] + pasvNumbers(adv, port) + raw[span[1]:])
}

// localPassive answers PASV/EPSV itself (seq-pasv-before-login) with a
// listener that accepts and closes.
func (s *session) localPassive(epsv bool) []byte {
	l, err := s.p.openPassive(s, s.listenIPs(nil), "", 0, s.p.b.alloc)
	if err != nil {
		return []byte("425 Can't open passive connection.\r\n")
	}
	s.setListener(l)
	return s.formatPassive(epsv, s.localIP, l.port, "", [2]int{})
}

// exhausted is the reply when no passive port is left (the proxy's pool,
// or the server said 421/425): 425 by default, or what the exhaustion
// faults do instead. For a server's own 421/425, upstream is "" and the
// default is to pass the server's reply on (nil means: drop).
func (s *session) exhausted(epsv bool, upstream string, upPort int) []byte {
	switch s.p.b.exhaust {
	case exhaustStall:
		s.logf("exhaustion: no reply")
		return nil
	case exhaustOutside:
		l, err := s.p.openPassive(s, s.listenIPs(nil), upstream, upPort, allocOutside)
		if err == nil {
			s.setListener(l)
			return s.formatPassive(epsv, s.localIP, l.port, "", [2]int{})
		}
	}
	return []byte("425 Can't open passive connection: no port available.\r\n")
}

// findPASV locates the first run of six comma-separated numbers (as
// ftp.ParsePASV does) and returns the endpoint and its byte span.
func findPASV(text string) (net.IP, int, [2]int, bool) {
	for i := 0; i < len(text); i++ {
		if !isDigitByte(text[i]) || (i > 0 && isDigitByte(text[i-1])) {
			continue
		}
		nums, end, ok := sixNumbers(text[i:])
		if !ok {
			continue
		}
		for _, n := range nums {
			if n > 255 {
				return nil, 0, [2]int{}, false
			}
		}
		port := nums[4]*256 + nums[5]
		if port == 0 {
			return nil, 0, [2]int{}, false
		}
		ip := net.IPv4(byte(nums[0]), byte(nums[1]), byte(nums[2]), byte(nums[3]))
		return ip, port, [2]int{i, i + end}, true
	}
	return nil, 0, [2]int{}, false
}

func isDigitByte(b byte) bool { return b >= '0' && b <= '9' }

func sixNumbers(s string) ([]int, int, bool) {
	var nums []int
	i := 0
	for {
		for i < len(s) && s[i] == ' ' && len(nums) > 0 {
			i++
		}
		j := i
		for j < len(s) && isDigitByte(s[j]) {
			j++
		}
		if j == i || j-i > 5 {
			return nil, 0, false
		}
		n, _ := strconv.Atoi(s[i:j])
		nums = append(nums, n)
		i = j
		if len(nums) == 6 {
			return nums, i, true
		}
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) || s[i] != ',' {
			return nil, 0, false
		}
		i++
	}
}

// findEPSV locates "(<d><d><d>port<d>)" and returns the port and the span
// of its digits.
func findEPSV(text string) (int, [2]int, bool) {
	for i := strings.IndexByte(text, '('); i >= 0 && i+5 < len(text); {
		d := text[i+1]
		if d >= 33 && d <= 126 && !isDigitByte(d) && text[i+2] == d && text[i+3] == d {
			j := i + 4
			for j < len(text) && isDigitByte(text[j]) {
				j++
			}
			if j > i+4 && j-(i+4) <= 5 && j+1 < len(text) && text[j] == d && text[j+1] == ')' {
				p, _ := strconv.Atoi(text[i+4 : j])
				if p >= 1 && p <= 65535 {
					return p, [2]int{i + 4, j}, true
				}
			}
		}
		k := strings.IndexByte(text[i+1:], '(')
		if k < 0 {
			break
		}
		i = i + 1 + k
	}
	return 0, [2]int{}, false
}

// recode gives r another code: every line that starts with r's code and
// a space or hyphen (the first and last of a multi-line reply) gets code
// instead; the line ends stay as the server sent them.
func recode(r ftp.Reply, code int) []byte {
	old, nw := strconv.Itoa(r.Code), []byte(strconv.Itoa(code))
	lines := bytes.SplitAfter(r.Raw, []byte("\n"))
	var out []byte
	for _, l := range lines {
		if len(l) > 3 && string(l[:3]) == old && (l[3] == ' ' || l[3] == '-') {
			l = append(append([]byte(nil), nw...), l[3:]...)
		}
		out = append(out, l...)
	}
	return out
}

func digits3(b []byte) bool {
	return len(b) >= 3 && b[0] >= '0' && b[0] <= '9' && b[1] >= '0' && b[1] <= '9' && b[2] >= '0' && b[2] <= '9'
}
