package suites

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"path"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/ftp"
	. "github.com/ftpharness/ftpharness/suites/framework"
	. "github.com/ftpharness/ftpharness/suites/matchers"
)

var _ = Describe("SECURITY", Label("security"), func() {

	// RFC 2577 §5: "After a small number of attempts (3-5), the server
	// should close the control connection with the client. Before closing
	// the control connection the server must send a return code of 421 ...
	// it is suggested that the server impose a 5 second delay before
	// replying to an invalid "PASS" command". The check waits out whatever
	// delay the server imposes (each wait is at least secMinWait, or the
	// longest delay seen so far tripled, as delays may grow), so a server that follows the
	// suggestion is never cut short, and counts only the attempts the
	// server actually answered. One session, never logged in, no data
	// connection (ControlOnly).
	Check("SEC-001", Slow, ControlOnly, func(ctx SpecContext) {
		a := &secAttempts{s: Dial(ctx), start: time.Now()}
		for a.answered < 5 {
			r, ok := a.step(ctx, "USER "+Config().User)
			if !ok || !r.Is(331, 332) {
				break // refuses even USER now (e.g. 530): the session is being shut
			}
			r, ok = a.step(ctx, fmt.Sprintf("PASS wrong-%d-%x", a.answered+1, rand.Uint32()))
			if r.Code != 0 {
				a.answered++ // a 421 answers the attempt too
				a.lastPass = r
			}
			if !ok {
				break
			}
		}
		Observe("time to answer each wrong PASS", strings.Join(a.delays, ", "))
		if !a.closed && !a.outOfTime {
			// Five wrong passwords answered: the connection must be closing.
			if _, ok := a.step(ctx, "NOOP"); ok {
				Problem(fmt.Sprintf("sent 5 wrong passwords (USER, then PASS): all %d were answered (the last with %q) and the session still answers NOOP (%q); RFC 2577 §5 wants 421 and a closed control connection after 3-5 attempts. "+
					"Fix: count failed PASS per connection and, at the limit, send 421 and close", a.answered, a.lastPass.Raw, a.last.Raw))
			}
		}
		if !a.closed && a.outOfTime {
			if a.answered < 5 {
				Skip(fmt.Sprintf("no reply to %q within %s (after %d wrong passwords answered, last reply %q); the check cannot tell whether the server would close the session", a.waited, a.per().Round(time.Second), a.answered, a.last.Raw))
			}
			Problem(fmt.Sprintf("sent 5 wrong passwords, all answered (the last with %q); then NOOP got no reply within %s and the connection stayed open; RFC 2577 §5 wants 421 and a close after 3-5 attempts. "+
				"Fix: at the limit, send 421 and close the control connection", a.lastPass.Raw, a.per().Round(time.Second)))
		}
		if !a.closed {
			Problem(fmt.Sprintf("sent wrong passwords: %d answered (last %q), then the server neither answered nor closed; RFC 2577 §5 wants 421 and a close after 3-5 attempts", a.answered, a.last.Raw))
		}
		if !a.last.Is(421) {
			Problem(fmt.Sprintf("sent wrong passwords: %d answered, then the server closed the connection; its last reply before the close was %q, not 421. RFC 2577 §5: \"Before closing the control connection the server must send a return code of 421\". "+
				"Fix: send 421 (not 530) before closing", a.answered, a.last.Raw))
		}
	})

	// RFC 2577 §7 (protecting user names): "it is suggested that a server
	// always return 331" to USER, and refuse an unknown user only at PASS,
	// so that USER does not tell a client which names exist.
	Check("SEC-002", func(ctx SpecContext) {
		s := Dial(ctx)
		user := fmt.Sprintf("nosuchuser%x", rand.Uint32())
		r := s.Do(ctx, "USER", user)
		Expect(r).To(HaveCode(331), "sent USER %s (a user that does not exist), got %q: the reply tells a client which names exist; RFC 2577 §7 suggests that a server always return 331 to USER. "+
			"Fix: answer 331 to every USER and refuse an unknown user at PASS (530)", user, r.Raw)
	})

	// RFC 959 §4.2.1: "500 Syntax error, command unrecognized. This may
	// include errors such as command line too long." §4.2: every command
	// must generate at least one reply.
	Check("SEC-003", func(ctx SpecContext) {
		var s *Session
		for _, n := range []int{600, 2100, 5000, 70000} {
			if s == nil {
				s = Login(ctx)
			}
			line := "CWD " + strings.Repeat("x", n-6) + "\r\n"
			o := s.RawWithin(ctx, 4*time.Second, []byte(line))
			if o.Closed {
				Observe(fmt.Sprintf("%d-byte line", n), "disconnected")
				s = nil
				continue
			}
			Expect(o.Timeout).To(BeFalse(), "%d-byte command line: no reply within 4 s (expected 500 'command line too long', an ordinary error, or a disconnect)", n)
			var pe *ftp.ProtocolError
			if errors.As(o.Err, &pe) && pe.Kind == "line-too-long" {
				// The reply echoes the whole line: longer than the harness
				// reads. Judge its code; the session cannot be resynchronised.
				Expect(string(pe.Raw)).To(MatchRegexp(`^[45]\d\d[ -]`), "%d-byte command line: the reply must be an error", n)
				Observe(fmt.Sprintf("%d-byte line", n), fmt.Sprintf("reply longer than %d bytes: %s...", ftp.MaxLineLength, secCut(string(pe.Raw), 60)))
				s.Close()
				s = nil
				continue
			}
			Expect(o.Err).NotTo(HaveOccurred(), "%d-byte command line", n)
			Expect(o.Reply).To(HaveClass(4, 5), "%d-byte command line (CWD to a nonexistent name): 500 too long, or an error reply", n)
			extra, end := s.Drain(ctx, 500*time.Millisecond, 50)
			var ex []string
			for _, r := range extra {
				ex = append(ex, r.String())
			}
			Expect(extra).To(BeEmpty(), "%d-byte command line got %d extra replies (the line was split into several commands): %s", n, len(extra), strings.Join(ex, " / "))
			Observe(fmt.Sprintf("%d-byte line", n), secCut(o.Reply.String(), 80))
			if end.Closed {
				s = nil
				continue
			}
			no := s.SendWithin(ctx, 4*time.Second, "NOOP")
			if no.Closed {
				s = nil
				continue
			}
			Expect(no.Reply).To(HaveCode(200), "NOOP after a %d-byte line must get its own reply (%s)", n, no)
		}
		Expect(Alive(ctx, 3*time.Second)).To(Succeed(), "after overlong command lines the server must still serve new sessions")
	})

	// ftpserverlib TestDOS: a client that never sends a line end must not
	// make the server buffer without bound; it should be disconnected.
	Check("SEC-004", func(ctx SpecContext) {
		s := Dial(ctx)
		nc := s.NetConn()
		closedAt := make(chan error, 1)
		go func() {
			buf := make([]byte, 4096)
			for {
				_, err := nc.Read(buf)
				if err != nil {
					closedAt <- err
					return
				}
			}
		}()
		nc.SetReadDeadline(time.Now().Add(15 * time.Second))
		const limit = 8 << 20
		chunk := bytes.Repeat([]byte("A"), 64<<10)
		budget := time.Now().Add(8 * time.Second)
		sent := 0
		var werr error
		var rerr error
		disconnected := false
	send:
		for sent < limit && time.Now().Before(budget) {
			select {
			case rerr = <-closedAt:
				disconnected = true
				break send
			default:
			}
			nc.SetWriteDeadline(budget)
			n, err := nc.Write(chunk)
			sent += n
			if err != nil {
				werr = err
				break
			}
		}
		if !disconnected {
			if werr != nil && !IsTimeout(werr) {
				disconnected = true
			} else {
				select {
				case rerr = <-closedAt:
					disconnected = !IsTimeout(rerr)
				case <-time.After(2 * time.Second):
				}
			}
		}
		nc.Close()
		Observe("bytes without a line end handed to the socket before the outcome", sent)
		how := "kept the connection open"
		if werr != nil && IsTimeout(werr) {
			how = "stopped reading (TCP window full) but kept the connection open"
		}
		Expect(disconnected).To(BeTrue(), "after %d bytes without CRLF the server %s (expected a disconnect; write error %v, read error %v)", sent, how, werr, rerr)
		Expect(Alive(ctx, 3*time.Second)).To(Succeed(), "the server must keep serving new sessions")
	})

	// RFC 959 §5.3.2: "<string> ::= <char> | <char><string> <char> ::= any
	// of the 128 ASCII characters except <CR> and <LF>"; a command ends with
	// <CRLF>, so a CR, LF or NUL inside an argument never ends it.
	Check("SEC-005", func(ctx SpecContext) {
		c := Config()
		for _, sep := range []string{"\r", "\n", "\x00"} {
			By(fmt.Sprintf("USER ...%qPASS ... before login", sep))
			s := Dial(ctx)
			line := "USER " + c.User + sep + "PASS " + c.Password + "\r\n"
			o := s.RawWithin(ctx, 4*time.Second, []byte(line))
			Expect(o.Closed || o.Timeout).To(BeFalse(), "`USER %s%sPASS ****`: %s (every command must get a reply, RFC 959 §4.2: 501, or 331 for the literal name)", c.User, secQ(sep), o)
			extra, _ := s.Drain(ctx, 700*time.Millisecond, 5)
			all := append([]ftp.Reply{o.Reply}, extra...)
			for _, r := range all {
				Expect(r).NotTo(HaveCode(230), "`USER %s%sPASS ****` logged in: the %q inside the argument split it into two commands", c.User, secQ(sep), sep)
			}
			Expect(extra).To(BeEmpty(), "`USER %s%sPASS ****` got %d replies (%s): the %q split it into two commands", c.User, secQ(sep), len(all), secReplies(all), sep)
			p := s.SendWithin(ctx, 4*time.Second, "PWD")
			if !p.Closed {
				Expect(p.Reply).NotTo(HaveCode(257), "PWD succeeded after `USER %s%sPASS ****`: the session is logged in", c.User, secQ(sep))
			}
			s.Close()
		}

		s := Login(ctx)
		victim := Name(ctx, "sec005")
		s.Put(ctx, victim, []byte("must survive\n"))
		for _, sep := range []string{"\r", "\n", "\x00"} {
			By(fmt.Sprintf("CWD ...%qDELE ... after login", sep))
			line := "CWD " + path.Join(Scratch(ctx), "no-such-dir") + sep + "DELE " + victim + "\r\n"
			o := s.RawWithin(ctx, 4*time.Second, []byte(line))
			Expect(o.Closed || o.Timeout).To(BeFalse(), "`CWD x%sDELE y`: %s (every command must get a reply, RFC 959 §4.2: 501, or 550 for the literal name)", secQ(sep), o)
			extra, _ := s.Drain(ctx, 700*time.Millisecond, 5)
			all := append([]ftp.Reply{o.Reply}, extra...)
			Expect(extra).To(BeEmpty(), "`CWD x%sDELE %s` got %d replies (%s): the %q split it into two commands", secQ(sep), victim, len(all), secReplies(all), sep)
			Expect(secExists(ctx, s, victim)).To(BeTrue(), "`CWD x%sDELE %s` deleted %s: the %q split the line into two commands", secQ(sep), victim, victim, sep)
		}
		By("non-ASCII bytes in an argument")
		o := s.RawWithin(ctx, 4*time.Second, []byte("CWD "+path.Join(Scratch(ctx), "no-\xc3\xa9-\x80\xfe-dir")+"\r\n"))
		Expect(o.Closed || o.Timeout).To(BeFalse(), "CWD with non-ASCII bytes: %s", o)
		Expect(s.Do(ctx, "NOOP")).To(HaveCode(200), "NOOP after a CWD with non-ASCII bytes must get its own reply")
	})

	// RFC 3659 §2.2: "the FTP control connection uses Telnet NVT
	// conventions [8], and that the Telnet IAC character, if part of a pathname
	// sent over the control connection, MUST be correctly escaped as defined
	// by the Telnet protocol"; RFC 1123 §3.2.6: "a Telnet escape character
	// (known as IAC, with the value 255) to be sent as data MUST be
	// doubled." So IAC IAC in a path is one 255 byte; a lone IAC (or one
	// split from its partner by a TCP write) must not break the command
	// reader.
	Check("SEC-006", func(ctx SpecContext) {
		s := Login(ctx)
		By("a lone IAC at the end of a write, the line end in the next")
		Expect(s.WriteRaw(ctx, []byte("CWD "+path.Join(Scratch(ctx), "lone")+"\xff"))).To(Succeed())
		time.Sleep(150 * time.Millisecond)
		Expect(s.WriteRaw(ctx, []byte("\r\n"))).To(Succeed())
		first, _ := s.Drain(ctx, 700*time.Millisecond, 5)
		got200, closed := secNoop(ctx, s)
		Expect(got200 || closed).To(BeTrue(), "after a line with a lone IAC (replies %s) NOOP got no 200", secReplies(first))
		if closed {
			s = Login(ctx)
		}

		By("IAC IAC split across two writes")
		Expect(s.WriteRaw(ctx, []byte("CWD "+path.Join(Scratch(ctx), "split")+"\xff"))).To(Succeed())
		time.Sleep(150 * time.Millisecond)
		Expect(s.WriteRaw(ctx, []byte("\xffdir\r\n"))).To(Succeed())
		o := s.ReadWithin(ctx, 4*time.Second)
		Expect(o.Timeout).To(BeFalse(), "no reply to a CWD whose IAC IAC was split across two writes")
		if !o.Closed {
			extra, _ := s.Drain(ctx, 500*time.Millisecond, 5)
			Expect(extra).To(BeEmpty(), "a CWD whose IAC IAC was split across writes got extra replies: %s", secReplies(append([]ftp.Reply{o.Reply}, extra...)))
			Expect(s.Do(ctx, "NOOP")).To(HaveCode(200))
		} else {
			s = Login(ctx)
		}
		Expect(Alive(ctx, 3*time.Second)).To(Succeed(), "the server must survive lone and split IAC bytes")

		By("IAC IAC inside a file name stores one 0xFF byte")
		dir := Scratch(ctx)
		base := path.Base(Name(ctx, "sec006"))
		onWire := path.Join(dir, base+"-\xff\xff-z")
		stored := base + "-\xff-z"
		payload := []byte("iac payload\n")
		s.Do(ctx, "TYPE", "I")
		res, _ := s.Xfer(ctx, false, "STOR "+onWire, payload)
		if !res.OK() && res.Final().Class() == 5 {
			Skip(fmt.Sprintf("the server refuses a file name containing byte 0xFF (%s): the IAC IAC mapping cannot be observed", res))
		}
		Expect(res).To(Complete(), "STOR of a name containing IAC IAC")
		DeferCleanup(func(ctx SpecContext) { s.Cmd(ctx, "DELE", onWire) })
		lr, listing := s.Xfer(ctx, false, "LIST "+dir, nil)
		Expect(lr).To(Complete())
		Expect(bytes.Contains(listing, []byte(stored))).To(BeTrue(), "sent `STOR %q` (the path's 0xFF byte escaped as IAC IAC), then LIST %s: expected the name %q, got %q (listing %q). "+
			"RFC 3659 §2.2: an IAC in a pathname on the control connection MUST be escaped as Telnet defines (RFC 1123 §3.2.6: doubled), so IAC IAC is one 0xFF byte of the name. "+
			"Fix: undouble IAC IAC when reading a command line", onWire, dir, stored, secTail(listing, base), secCut(string(listing), 300))
		rr, data := s.Xfer(ctx, false, "RETR "+onWire, nil)
		Expect(rr).To(Complete())
		Expect(data).To(Equal(payload))
	})

	// RFC 1123 §4.1.2.12: "a server-FTP MUST be capable of accepting and
	// refusing Telnet negotiations (i.e., sending DONT/WONT)."
	Check("SEC-007", func(ctx SpecContext) {
		const iac, will, wont, do, dont = 255, 251, 252, 253, 254
		for _, neg := range [][2]byte{{will, 1}, {do, 1}, {will, 34}, {do, 3}} {
			s := Login(ctx)
			what := fmt.Sprintf("IAC %s %d", map[byte]string{will: "WILL", do: "DO"}[neg[0]], neg[1])
			Expect(s.WriteRaw(ctx, []byte{iac, neg[0], neg[1]})).To(Succeed())
			time.Sleep(100 * time.Millisecond)
			// NOOP goes straight to the socket: SendLine would first read
			// the server's Telnet answer (IAC DONT/WONT, already there) as
			// a late reply, wait a whole timeout for a line that comes only
			// after NOOP, and hide the answer from secReadTelnetReply
			Expect(secWriteLine(s, "NOOP", 5*time.Second)).To(Succeed())
			opts, text, err := secReadTelnetReply(s.NetConn(), 5*time.Second)
			Observe(what+": negotiation answer", fmt.Sprintf("%v", opts))
			Expect(err).NotTo(HaveOccurred(), "%s then NOOP: no complete reply within 5 s (got %q); the NOOP after the negotiation must be answered", what, text)
			Expect(text).To(HavePrefix("200"), "%s then NOOP: the negotiation must be refused (DONT/WONT) or ignored and NOOP answered 200; got %q", what, text)
			for _, o := range opts {
				if o[0] == do || o[0] == will {
					Observe(what+": server accepted the option", fmt.Sprintf("%v", o))
				} else {
					Expect(o[0] == dont || o[0] == wont).To(BeTrue(), "%s: unexpected Telnet answer %v", what, o)
				}
			}
			s.Close()
		}
	})

	// pyftpdlib path validation (FTPHandler.fs.validpath): "../" never
	// leaves the user's root, and files outside it cannot be read.
	Check("SEC-008", func(ctx SpecContext) {
		s := Login(ctx)
		root := secPwd(ctx, s)
		r := s.Do(ctx, "CWD", "../../..")
		Expect(r).To(HaveClass(2, 5), "CWD ../../..")
		p1 := secPwd(ctx, s)
		Expect(secWithin(p1, root)).To(BeTrue(), "CWD ../../.. from the login directory %q ended in %q (reply %q): outside the user's root", root, p1, r.Raw)
		s.Do(ctx, "CWD", root)
		passwd := regexp.MustCompile(`(?m)^root:[^:\n]*:0:0:`)
		for _, dir := range []string{root, Scratch(ctx)} {
			s.Do(ctx, "CWD", dir)
			for _, p := range []string{"../../etc/passwd", strings.Repeat("../", 12) + "etc/passwd"} {
				s.Do(ctx, "TYPE", "I")
				res, data := s.Xfer(ctx, false, "RETR "+p, nil)
				Expect(passwd.Match(data)).To(BeFalse(), "RETR %s from %q returned the system's /etc/passwd (%d bytes, %s): path traversal out of the user's root", p, dir, len(data), res)
			}
		}
	})

	// pyftpdlib test_quick_connect: connections reset right after connect
	// (on the control port and on a passive port) must not stop the server
	// serving other sessions.
	Check("SEC-009", Serial, func(ctx SpecContext) {
		const burst = 24
		bystander := Login(ctx)
		addr := Config().Addr
		for i := 0; i < burst; i++ {
			dctx, cancel := context.WithTimeout(ctx, time.Second)
			nc, err := ftp.DialTCP(dctx, addr, nil)
			cancel()
			if err != nil {
				continue
			}
			if i%2 == 1 {
				nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				nc.Read(make([]byte, 64))
			}
			secReset(nc)
		}
		a := Login(ctx)
		ep := a.Pasv(ctx, false)
		target := a.DataTarget(ep, ftp.ControlHost)
		// A passive listener that has taken its one connection often stops
		// accepting: further SYNs sit unanswered until the dial times out.
		// After a few such timeouts in a row the rest of the burst would
		// reach nothing either, so it is cut short.
		for i, unanswered := 0, 0; i < burst && unanswered < 3; i++ {
			dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			nc, err := ftp.DialTCP(dctx, target, nil)
			cancel()
			if err != nil {
				if IsTimeout(err) {
					unanswered++
				} else {
					unanswered = 0
				}
				continue
			}
			unanswered = 0
			secReset(nc)
		}
		unsolicited, _ := a.Drain(ctx, 300*time.Millisecond, 5)
		if len(unsolicited) > 0 {
			Observe("replies after the passive port was reset", secReplies(unsolicited))
		}
		res, _ := a.Xfer(ctx, false, "LIST", nil)
		Expect(res).To(Complete(), "a new PASV + LIST on the session whose passive port was hit by connect+RST")
		Expect(bystander.Do(ctx, "NOOP")).To(HaveCode(200), "the session opened before the bursts must still be served")
		bres, _ := bystander.Xfer(ctx, false, "LIST", nil)
		Expect(bres).To(Complete(), "LIST on the session opened before the bursts")
		Expect(Alive(ctx, 5*time.Second)).To(Succeed(), "new sessions after %d connect+RST on the control port and %d on a passive port", burst, burst)
	})

	// RFC 959 §4.1.1 QUIT: "An unexpected close on the control connection
	// will cause the server to take the effective action of an abort (ABOR)
	// and a logout (QUIT)." No transfer command was sent, so once the
	// control connection is closed the server has nothing to connect for.
	// The rule is about what happens after the close: the check waits for
	// PORT's reply and a moment more before closing (a server may connect
	// to the PORT address as soon as it reads PORT, which is its choice and
	// recorded only), then counts the connections that arrive after the
	// close. (Closing right after the PORT line, as pyftpdlib's
	// test_port_race_condition does, cannot tell a server that connects on
	// PORT before it reads the close from one that connects after it.)
	Check("SEC-010", Slow, func(ctx SpecContext) {
		type probe struct {
			how      string
			sent     string
			c        *Catcher
			port     ftp.Reply
			closedAt time.Time
		}
		var probes []probe
		for _, rst := range []bool{false, true} {
			s := Login(ctx)
			c := ListenCatcher(s.LocalIP())
			verb, arg := s.ActiveCmd(c) // EPRT over IPv6
			r := s.Do(ctx, verb, arg)
			time.Sleep(secPortSettle)
			if n := c.Count(); n > 0 {
				Observe("connections on PORT, before any transfer command", fmt.Sprintf("%d (PORT answered %q)", n, r.Raw))
			}
			how := "close (FIN)"
			if rst {
				how = "reset (RST)"
				secReset(s.TCPConn())
			} else {
				s.TCPConn().Close()
			}
			probes = append(probes, probe{how, verb + " " + arg, c, r, time.Now()})
		}
		time.Sleep(2 * time.Second)
		for _, p := range probes {
			var late []Arrival
			for _, a := range p.c.Arrivals() {
				if a.At.After(p.closedAt) {
					late = append(late, a)
				}
			}
			if len(late) == 0 {
				continue
			}
			Problem(fmt.Sprintf("sent %s (answered %q), waited %v, then a control-connection %s at %s with no transfer command: the server connected to the harness listener after the close (%s). "+
				"RFC 959 §4.1.1: an unexpected close of the control connection has the effect of ABOR and QUIT, so nothing is left to connect for. "+
				"Fix: on a control-connection close, drop the pending PORT address and never dial it",
				p.sent, p.port.Raw, secPortSettle, p.how, p.closedAt.Format("15:04:05.000"), DescribeArrivals(late)))
		}
	})
})

// secCut shortens s for a report.
func secCut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// secQ shows a separator byte as an escape.
func secQ(sep string) string { return strings.Trim(fmt.Sprintf("%q", sep), `"`) }

func secReplies(rs []ftp.Reply) string {
	var s []string
	for _, r := range rs {
		s = append(s, fmt.Sprintf("%q", r.Raw))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// secExists lists the file's directory (LIST: some servers answer NLST of
// a directory with its own name) and looks for the file's name.
func secExists(ctx context.Context, s *Session, file string) bool {
	GinkgoHelper()
	res, listing := s.Xfer(ctx, false, "LIST "+path.Dir(file), nil)
	Expect(res).To(Complete(), "LIST %s", path.Dir(file))
	return bytes.Contains(listing, []byte(path.Base(file)))
}

// secNoop sends NOOP and reads replies until a 200 (up to 3, answering
// earlier stray replies), or the server closes.
func secNoop(ctx context.Context, s *Session) (got200, closed bool) {
	o := s.SendWithin(ctx, 3*time.Second, "NOOP")
	for i := 0; i < 3; i++ {
		if o.Closed {
			return false, true
		}
		if o.Timeout || o.Err != nil {
			return false, false
		}
		if o.Reply.Is(200) {
			return true, false
		}
		o = s.ReadWithin(ctx, 2*time.Second)
	}
	return false, false
}

// secPwd returns the quoted path of a 257 PWD reply.
func secPwd(ctx context.Context, s *Session) string {
	GinkgoHelper()
	r := s.Do(ctx, "PWD")
	Expect(r).To(HaveCode(257), "PWD")
	t := r.Text()
	i := strings.Index(t, `"`)
	Expect(i).To(BeNumerically(">=", 0), "257 without a quoted path: %q", r.Raw)
	var b strings.Builder
	for j := i + 1; j < len(t); j++ {
		if t[j] == '"' {
			if j+1 < len(t) && t[j+1] == '"' {
				b.WriteByte('"')
				j++
				continue
			}
			break
		}
		b.WriteByte(t[j])
	}
	return b.String()
}

// secWithin reports whether p is root or below it.
func secWithin(p, root string) bool {
	p, root = path.Clean(p), path.Clean(root)
	return root == "/" || p == root || strings.HasPrefix(p, root+"/")
}

// secReset closes nc with an RST (SO_LINGER 0).
func secReset(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	nc.Close()
}

// secTail shows the listing lines that mention stem.
func secTail(listing []byte, stem string) string {
	var out []string
	for _, l := range bytes.Split(listing, []byte("\n")) {
		if bytes.Contains(l, []byte(stem)) {
			out = append(out, string(bytes.TrimSpace(l)))
		}
	}
	if len(out) == 0 {
		return "(no entry)"
	}
	return strings.Join(out, " / ")
}

// secReadTelnetReply reads raw bytes until a complete final reply line,
// separating Telnet option commands (IAC WILL/WONT/DO/DONT x) from text.
func secReadTelnetReply(nc net.Conn, d time.Duration) ([][2]byte, string, error) {
	nc.SetReadDeadline(time.Now().Add(d))
	defer nc.SetReadDeadline(time.Time{})
	var opts [][2]byte
	var text []byte
	var pending []byte
	buf := make([]byte, 512)
	for {
		n, err := nc.Read(buf)
		pending = append(pending, buf[:n]...)
		for len(pending) > 0 {
			if pending[0] != 255 {
				text = append(text, pending[0])
				pending = pending[1:]
				continue
			}
			if len(pending) < 2 {
				break
			}
			switch c := pending[1]; {
			case c == 255:
				text = append(text, 255)
				pending = pending[2:]
			case c >= 251 && c <= 254:
				if len(pending) < 3 {
					goto more
				}
				opts = append(opts, [2]byte{c, pending[2]})
				pending = pending[3:]
			default:
				pending = pending[2:]
			}
		}
	more:
		if secFinalLine(text) {
			return opts, string(text), nil
		}
		if err != nil {
			return opts, string(text), err
		}
	}
}

var secFinalRe = regexp.MustCompile(`(?m)^\d{3} .*\r?\n`)

// secWriteLine sends line on s's control connection without the Conn's
// reply pairing (which reads what is waiting before a command goes out),
// recording it in the transcript; for checks that read the reply raw.
func secWriteLine(s *Session, line string, d time.Duration) error {
	s.Transcript().Add(ftp.Sent, line)
	nc := s.NetConn()
	nc.SetWriteDeadline(time.Now().Add(d))
	defer nc.SetWriteDeadline(time.Time{})
	_, err := nc.Write([]byte(line + "\r\n"))
	return err
}

func secFinalLine(text []byte) bool { return secFinalRe.Match(text) }

// secPortSettle is how long SEC-010 waits after PORT's reply before it
// closes, so a server that dials the PORT address on reading PORT has
// done so (loopback connects take well under a millisecond).
const secPortSettle = 500 * time.Millisecond

// secMinWait is the least SEC-001 waits for any reply: RFC 2577 §5
// suggests a 5 second delay after a wrong password, plus a margin.
const secMinWait = 6 * time.Second

// secMaxWait bounds one wait, so five attempts stay inside the spec's
// time limit whatever delay the server imposes.
const secMaxWait = 25 * time.Second

// secAttempts is SEC-001's session: each command's reply is waited for
// at least secMinWait, or three times the longest delay seen; the
// whole budget is five such waits plus slack, so it grows with the
// server's delay.
type secAttempts struct {
	s         *Session
	start     time.Time
	answered  int // wrong passwords the server answered
	longest   time.Duration
	delays    []string
	last      ftp.Reply // last reply before the close
	lastPass  ftp.Reply // the reply to the last wrong password
	closed    bool
	outOfTime bool
	waited    string // the command whose reply did not come in time
}

func (a *secAttempts) per() time.Duration {
	// A server may lengthen the delay with each attempt, with jitter
	// (pure-ftpd sleeps about 3 s times the attempt number plus up to 3 s:
	// 3.1 s then 8.9 s is possible), so the next wait is three times the
	// longest delay seen, not that delay plus a margin.
	d := max(secMinWait, Config().Timeout, 3*a.longest+time.Second)
	return min(d, max(secMaxWait, Config().Timeout))
}

func (a *secAttempts) budgetLeft() time.Duration {
	return time.Until(a.start.Add(5*a.per() + 5*time.Second))
}

// step sends line and reads its reply; ok is false once the session
// closed, timed out or answered 421 (then it waits for the close).
func (a *secAttempts) step(ctx context.Context, line string) (ftp.Reply, bool) {
	GinkgoHelper()
	wait := min(a.per(), a.budgetLeft())
	if wait <= 0 {
		a.outOfTime, a.waited = true, secVerb(line)
		return ftp.Reply{}, false
	}
	t0 := time.Now()
	o := a.s.SendWithin(ctx, wait, line)
	switch {
	case o.Closed:
		a.closed = true
		return ftp.Reply{}, false
	case o.Timeout:
		a.outOfTime, a.waited = true, secVerb(line)
		return ftp.Reply{}, false
	case o.Err != nil:
		Fail(fmt.Sprintf("%s: %v", secVerb(line), o.Err))
	}
	a.last = o.Reply
	if took := time.Since(t0); strings.HasPrefix(line, "PASS") {
		a.delays = append(a.delays, took.Round(10*time.Millisecond).String())
		a.longest = max(a.longest, took)
	}
	if o.Reply.Is(421) {
		// 421 announces the close; wait for it.
		octx, cancel := context.WithTimeout(ctx, 2*time.Second)
		a.closed = a.s.ReadEOF(octx) == nil
		cancel()
		return o.Reply, false
	}
	return o.Reply, true
}

// secVerb names a command without its argument (never a password).
func secVerb(line string) string {
	v, _, _ := strings.Cut(line, " ")
	return v
}
