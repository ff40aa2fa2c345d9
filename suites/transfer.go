package suites

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/fixtures"
	"github.com/ftpharness/ftpharness/ftp"
	. "github.com/ftpharness/ftpharness/suites/framework"
	. "github.com/ftpharness/ftpharness/suites/matchers"
)

var _ = Describe("XFER", Label("transfer"), func() {

	// RFC 959 §3.1.1.3: "The data are sent as contiguous bits which, for
	// transfer, are packed into the 8-bit transfer bytes. The receiving
	// site must store the data as contiguous bits." RFC 3659 §4: SIZE gives
	// the exact number of octets a transfer would send.
	Check("XFER-001", func(ctx SpecContext) {
		s := Login(ctx)
		name := Name(ctx, "xfer001")
		payload := fixtures.Tricky(1, 100_000)
		s.Put(ctx, name, payload)
		got := s.Get(ctx, name)
		Expect(xferSame(got, payload)).To(BeEmpty(), "TYPE I round trip of %d bytes", len(payload))
		if Feat(ctx).Has("SIZE") {
			r := s.Do(ctx, "SIZE", name)
			Expect(r).To(HaveCode(213))
			Expect(strings.TrimSpace(r.Text())).To(Equal(strconv.Itoa(len(payload))), "SIZE after a TYPE I upload of %d bytes: %q", len(payload), r.Raw)
		}
	})

	// RFC 959 §3.1.1.1: in ASCII type "the sender converts the data from an
	// internal character representation to the standard 8-bit NVT-ASCII
	// representation ... the <CRLF> sequence should be used where necessary
	// to denote the end of a line of text."
	Check("XFER-002", func(ctx SpecContext) {
		s := Login(ctx)
		name := Name(ctx, "xfer002")
		s.Put(ctx, name, fixtures.TextLF(40))
		Expect(s.Do(ctx, "TYPE", "A")).To(HaveCode(200))
		res, got := xferRun(ctx, s, "RETR "+name, nil)
		Expect(res).To(Complete())
		Expect(xferSame(got, fixtures.TextCRLF(40))).To(BeEmpty(), "stored a %d-byte text with LF line ends (TYPE I STOR), then fetched it with TYPE A RETR: got %q... on the wire; "+
			"RFC 959 §3.1.1.1: in ASCII type \"the <CRLF> sequence should be used where necessary to denote the end of a line of text\". "+
			"Fix: in TYPE A, send every bare LF of the file as CR LF", len(fixtures.TextLF(40)), xferHead(got))
	})

	// RFC 959 §3.1.1.1: in ASCII type "the sender converts the data from
	// an internal character representation to the standard 8-bit NVT-ASCII
	// representation ... The receiver will convert the data from the
	// standard form to his own internal form", with "<CRLF> ... to denote
	// the end of a line of text". A CRLF split across TCP segments is still
	// one line end (TCP keeps no write boundaries), so text sent in TYPE A and
	// fetched back in TYPE A is the same text, with no CR gained or lost.
	Check("XFER-003", func(ctx SpecContext) {
		s := Login(ctx)
		text := fixtures.TextCRLF(60)

		By("TYPE A STOR of CRLF text with every CRLF split across TCP writes, then TYPE A RETR")
		up := Name(ctx, "xfer003-up")
		Expect(s.Do(ctx, "TYPE", "A")).To(HaveCode(200))
		nc := s.Data(ctx, false)
		octx, cancel := context.WithTimeout(ctx, 4*Config().Timeout)
		defer cancel()
		res := s.Transfer(octx, nc, "STOR "+up, xferSplitCRLF(text, 10*time.Millisecond), nil)
		Expect(res).To(Complete())
		res, got := xferRun(ctx, s, "RETR "+up, nil)
		Expect(res).To(Complete())
		Expect(xferSame(got, text)).To(BeEmpty(), "TYPE A STOR of %d bytes of CRLF text (each CR sent in one TCP segment, its LF in the next), then TYPE A RETR: the text must come back as it was sent (RFC 959 §3.1.1.1: CRLF is the line end both ways). "+
			"Fix: convert a CRLF to the local line end even when the CR and LF arrive in different reads", len(text))
		stored := s.Get(ctx, up)
		Expect(bytes.Contains(stored, []byte("\r\r"))).To(BeFalse(), "TYPE A STOR of CRLF text read back in TYPE I holds CR CR: %q...; the CRLF line ends were not converted to the local form (RFC 959 §3.1.1.1: the receiver converts the standard form to its own). "+
			"Fix: keep a CR that ends one read until the next read shows whether an LF follows", xferHead(stored))
	})

	// No RFC rule: RFC 959 §3.1.1.1 only says the sender converts "from an
	// internal character representation to the standard 8-bit NVT-ASCII
	// representation"; a server whose files use LF line ends may convert
	// every LF to CRLF literally, and a file that already holds CRLF then
	// goes out as CR CR LF. Clients store that as lines ending in a stray CR
	// (pyftpdlib test_retr_ascii_already_crlf), so it is worth a warning.
	Check("XFER-025", func(ctx SpecContext) {
		s := Login(ctx)
		text := fixtures.TextCRLF(60)
		name := Name(ctx, "xfer025")
		s.Put(ctx, name, text)
		Expect(s.Do(ctx, "TYPE", "A")).To(HaveCode(200))
		res, got := xferRun(ctx, s, "RETR "+name, nil)
		Expect(res).To(Complete())
		if i := bytes.Index(got, []byte("\r\r\n")); i >= 0 {
			Problem(fmt.Sprintf("TYPE A RETR of a %d-byte file stored in TYPE I with CRLF line ends sent CR CR LF (at offset %d: %q). "+
				"RFC 959 §3.1.1.1 allows this literal LF-to-CRLF conversion, but clients then save lines ending in a stray CR. "+
				"Fix: in TYPE A, send a CR LF that is already in the file as it is and convert only a bare LF to CR LF",
				len(text), i, got[max(0, i-8):min(len(got), i+8)]))
		}
		Expect(xferSame(got, text)).To(BeEmpty(), "TYPE A RETR of a file that already has CRLF line ends: the CRLF text should arrive unchanged")
	})

	// RFC 1123 §4.1.2.13: "The following commands and options MUST be
	// supported by every server-FTP ... TYPE - ASCII Non-print, IMAGE,
	// LOCAL 8"; §4.1.2.1: "TYPE L 8 ... is equivalent to TYPE I" on byte
	// hosts. RFC 959 §5.3: verbs and type codes are case-insensitive.
	Check("XFER-004", func(ctx SpecContext) {
		s := Login(ctx)
		for _, t := range []string{"TYPE L 8", "TYPE A N", "TYPE i"} {
			verb, arg, _ := strings.Cut(t, " ")
			Expect(s.Do(ctx, verb, arg)).To(HaveCode(200), t)
		}
		By("TYPE L 8 transfers bytes like TYPE I")
		name := Name(ctx, "xfer004")
		payload := fixtures.Tricky(4, 50_000)
		Expect(s.Do(ctx, "TYPE", "L", "8")).To(HaveCode(200))
		res, _ := xferRun(ctx, s, "STOR "+name, payload)
		Expect(res).To(Complete())
		res, got := xferRun(ctx, s, "RETR "+name, nil)
		Expect(res).To(Complete())
		Expect(xferSame(got, payload)).To(BeEmpty(), "TYPE L 8 round trip")
		Expect(xferSame(s.Get(ctx, name), payload)).To(BeEmpty(), "TYPE L 8 upload read back in TYPE I")
	})

	// RFC 3659 §5.3: "The numeric value gives the number of octets of the
	// immediately-following transfer to not actually send ... The
	// server-PI will respond to the REST command with a 350 reply".
	Check("XFER-005", func(ctx SpecContext) {
		s := Login(ctx)
		name := Name(ctx, "xfer005")
		payload := fixtures.Tricky(5, 200_000)
		s.Put(ctx, name, payload)
		for _, n := range []int{1, 4242, 65536, len(payload) - 1} {
			nc := s.Data(ctx, false)
			r := s.Do(ctx, "REST", strconv.Itoa(n))
			xferSkipUnlessREST(ctx, r)
			Expect(r).To(HaveCode(350), "REST %d", n)
			var sink bytes.Buffer
			octx, cancel := Ctx(ctx)
			res := s.Transfer(octx, nc, "RETR "+name, nil, &sink)
			cancel()
			Expect(res).To(Complete(), "RETR after REST %d", n)
			Expect(xferSame(sink.Bytes(), payload[n:])).To(BeEmpty(), "REST %d then RETR must send file[%d:] (%d bytes)", n, n, len(payload)-n)
		}
	})

	// RFC 3659 §5.3: "With STOR, however, the server must insert the data
	// into the file named"; §5.2: SIZE with REST restarts an interrupted
	// upload.
	Check("XFER-006", func(ctx SpecContext) {
		s := Login(ctx)
		name := Name(ctx, "xfer006")
		payload := fixtures.Bytes(6, 300_000)
		half := 123_457
		s.Put(ctx, name, payload[:half])
		if Feat(ctx).Has("SIZE") {
			r := s.Do(ctx, "SIZE", name)
			Expect(r).To(HaveCode(213))
			Expect(strings.TrimSpace(r.Text())).To(Equal(strconv.Itoa(half)), "SIZE of the partial upload: %q", r.Raw)
		}
		nc := s.Data(ctx, false)
		r := s.Do(ctx, "REST", strconv.Itoa(half))
		xferSkipUnlessREST(ctx, r)
		Expect(r).To(HaveCode(350))
		octx, cancel := Ctx(ctx)
		defer cancel()
		res := s.Transfer(octx, nc, "STOR "+name, bytes.NewReader(payload[half:]), nil)
		Expect(res).To(Complete(), "STOR of the remainder after REST %d", half)
		Expect(xferSame(s.Get(ctx, name), payload)).To(BeEmpty(), "file after REST %d + STOR of the remainder", half)
	})

	// RFC 3659 §5.3: "Any other errors, including such problems as restart
	// marker out of range, should be reported when the following transfer
	// command is issued. Such errors will cause that transfer request to be
	// rejected with an error indicating the invalid restart attempt."
	Check("XFER-007", func(ctx SpecContext) {
		s := Login(ctx)
		name := Name(ctx, "xfer007")
		s.Put(ctx, name, fixtures.Bytes(7, 1000))
		nc := s.Data(ctx, false)
		r := s.Do(ctx, "REST", "1001")
		xferSkipUnlessREST(ctx, r)
		Expect(r).To(HaveCode(350), "REST past the end must be accepted; the error belongs to the transfer command")
		octx, cancel := Ctx(ctx)
		defer cancel()
		res := s.Transfer(octx, nc, "RETR "+name, nil, nil)
		Expect(res.Replies).NotTo(BeEmpty(), "RETR after REST 1001: %s", res)
		Expect(res.Replies[0]).To(HaveClass(4, 5), "RETR of a 1000-byte file after REST 1001 should be refused, not started (%s)", res)
	})

	// RFC 3659 §5.3: rest = "Rest" SP 1*DIGIT CRLF; "An error response will
	// follow a REST command only when the server does not implement the
	// command, or when the restart marker value is syntactically invalid
	// for the current transfer mode (e.g., in STREAM mode, something other
	// than one or more digits appears in the parameter to the REST
	// command)." RFC 959 §5.4 lists the error replies of REST as "500,
	// 501, 502, 421, 530" (350 the only other): with REST implemented and
	// the user logged in, a syntax error is 501 or 500. (A huge all-digit
	// marker such as 2^63 is syntactically valid: its range error belongs
	// to the transfer command, XFER-007.)
	Check("XFER-008", func(ctx SpecContext) {
		s := Login(ctx)
		Expect(s.Do(ctx, "TYPE", "I")).To(HaveCode(200))
		r := s.Do(ctx, "REST", "0")
		xferSkipUnlessREST(ctx, r)
		Expect(r).To(HaveCode(350), "REST 0")
		var bad []string
		for _, arg := range []string{"abc", "-1", "10.1"} {
			octx, cancel := Ctx(ctx)
			r, err := s.Cmd(octx, "REST", arg)
			cancel()
			if err != nil {
				// The session is out of step now: judge what was seen.
				bad = append(bad, fmt.Sprintf("REST %s got no reply within %v (%v)", arg, Config().Timeout, err))
				break
			}
			if !r.Is(500, 501) {
				bad = append(bad, fmt.Sprintf("REST %s got %q", arg, r.Raw))
			}
		}
		if len(bad) > 0 {
			Problem(fmt.Sprintf("REST with a marker that is not 1*DIGIT (after REST 0 got 350): %s. "+
				"RFC 3659 §5.3: an error response follows a syntactically invalid marker, and RFC 959 §5.4 lists 500 and 501 for it. "+
				"Fix: answer 501 (or 500) to a REST argument that is not all digits, and keep the old marker", strings.Join(bad, "; ")))
		}
		s.Do(ctx, "REST", "0")
	})

	// RFC 3659 §5.3: the marker applies to "the next transfer command";
	// whether a failed STOR consumes it is not specified (pyftpdlib resets
	// it, test_failing_rest_on_stor).
	Check("XFER-009", func(ctx SpecContext) {
		s := Login(ctx)
		s.Do(ctx, "TYPE", "I")
		nc := s.Data(ctx, false)
		r := s.Do(ctx, "REST", "10")
		Observe("REST 10", r.String())
		octx, cancel := Ctx(ctx)
		defer cancel()
		bad := path.Join(Scratch(ctx), "no-such-dir-xfer009", "f")
		res := s.Transfer(octx, nc, "STOR "+bad, bytes.NewReader([]byte("x")), nil)
		Observe("STOR into a missing directory", res.String())
		name := Name(ctx, "xfer009")
		data := []byte("0123456789abcdefghij")
		res, _ = xferRun(ctx, s, "STOR "+name, data)
		Observe("plain STOR after the failed one", res.String())
		Expect(res).To(Complete())
		got := s.Get(ctx, name)
		if bytes.Equal(got, data) {
			Observe("restart marker", "cleared by the failed STOR")
		} else {
			Observe("restart marker", fmt.Sprintf("still applied: file is %q", got))
		}
		Expect(got).To(Equal(data), "the failed STOR should clear the restart marker")
	})

	// RFC 3659 §4: SIZE "MUST return the exact size ... for the current
	// TYPE"; §5: REST in TYPE A is allowed but ProFTPD/pyftpdlib refuse it.
	Check("XFER-010", func(ctx SpecContext) {
		s := Login(ctx)
		name := Name(ctx, "xfer010")
		lf, crlf := fixtures.TextLF(40), fixtures.TextCRLF(40)
		s.Put(ctx, name, lf)
		Expect(s.Do(ctx, "TYPE", "A")).To(HaveCode(200))
		size := s.Do(ctx, "SIZE", name)
		Observe("SIZE in TYPE A", fmt.Sprintf("%s (file: %d bytes LF, %d bytes as NVT-ASCII)", size, len(lf), len(crlf)))
		rest := s.Do(ctx, "REST", "10")
		Observe("REST 10 in TYPE A", rest.String())
		s.Do(ctx, "REST", "0")
		if size.Is(213) {
			Expect(strings.TrimSpace(size.Text())).To(Equal(strconv.Itoa(len(crlf))), "SIZE in TYPE A should count the NVT-ASCII (CRLF) form")
		}
	})

	// RFC 959 §4.1.3 ABOR: "In the first case [the FTP service command was
	// already completed], the server closes the data connection (if it is
	// open) and responds with a 226 reply"; §5.4 lists "ABOR 225, 226;
	// 500, 501, 502, 421". ABOR is optional: RFC 1123 §4.1.5 marks it MAY
	// and §4.1.2.13 leaves it out of the minimum implementation, so a
	// server without it (500/502) is skipped, not failed.
	Check("XFER-011", func(ctx SpecContext) {
		s := Login(ctx)
		r := s.Do(ctx, "ABOR")
		if r.Is(500, 502) {
			Skip(fmt.Sprintf("ABOR is not implemented (%q): RFC 1123 §4.1.5 makes ABOR optional (MAY) and RFC 959 §5.4 allows 500/502", r.Raw))
		}
		Expect(r).To(HaveCode(225, 226), "sent ABOR with no transfer in progress, got %q; RFC 959 §4.1.3 wants 226 when the previous command has completed (§5.4 also lists 225). "+
			"Fix: answer ABOR with nothing to abort 226 (or 225)", r.Raw)
		xferExpectInSync(ctx, s, fmt.Sprintf("ABOR with nothing in progress (answered %q)", r.Raw), "send exactly one reply to ABOR")
	})

	// RFC 959 §4.1.3 ABOR: "There are two cases for the server upon receipt
	// of this command: (1) the FTP service command was already completed,
	// or (2) the FTP service command is still in progress. In the first
	// case, the server closes the data connection (if it is open) and
	// responds with a 226 reply ... In the second case, the server aborts
	// the FTP service in progress and closes the data connection,
	// returning a 426 reply ... The server then sends a 226 reply"; §5.4
	// lists "ABOR 225, 226; 500, 501, 502, 421". When the server acts is
	// not fixed: RFC 959 §4.1 says "Some servers may not be able to
	// monitor the control and data connections simultaneously" and only
	// "tentatively recommend[s]" Telnet IP + Synch before ABOR (sent here),
	// and RFC 1123 §4.1.3.3: "Even such a minimal server must be prepared
	// to accept and defer a STAT or ABOR command that arrives during data
	// transfer." So the rule is: ABOR is answered, with 426 then 226, or
	// (deferred to the transfer's end) the transfer's 226 then 225/226; the
	// data connection closes and the control connection stays in sync.
	// Deferring warns: the client waits for the whole file. XFER-013 varies
	// the attention sequence.
	Check("XFER-012", Slow, func(ctx SpecContext) {
		big := BigFile(ctx)
		s := Login(ctx)
		x := s.HeldRetr(ctx, big, 64<<10)
		s.TelnetSynchBSD(ctx)
		xferSend(ctx, s, "ABOR")
		xferExpectAbortAnswered(ctx, s, x, "Telnet IP + Synch, then ABOR, during "+x.Cmd)
	})

	// RFC 959 §4.1 (p.34): "the user system ... 1. ... inserts the Telnet
	// "Interrupt Process" (IP) signal in the Telnet stream. 2. ... sends
	// the Telnet "Synch" signal. 3. ... inserts the command (e.g., ABOR)
	// in the Telnet stream." The control connection speaks Telnet, and
	// RFC 1123 §3.2.3: "A host MUST be able to receive and ignore any
	// Telnet control functions that it does not support", so the IAC
	// bytes, however urgent data split them, must not spoil the ABOR
	// behind them: it gets the legal XFER-012 answer during a transfer
	// (426 then 226, or the transfer's 226/250 then 225/226) and 225/226
	// with nothing running (RFC 959 §4.1.3, §5.4), and the control connection
	// stays in sync. Acting at once is not required: RFC 959
	// §4.1 only "tentatively recommend[s]" IP and Synch and says "Some
	// servers may not be able to monitor the control and data connections
	// simultaneously"; RFC 1123 §4.1.3.3: "Even such a minimal server must
	// be prepared to accept and defer a STAT or ABOR command that arrives
	// during data transfer." So deferring warns, and a server whose plain
	// ABOR gets 500/502 (RFC 1123 §4.1.5: ABOR is MAY) is skipped. A plain
	// ABOR mid-transfer is XFER-024.
	Check("XFER-013", Slow, func(ctx SpecContext) {
		big := BigFile(ctx)
		var failed, deferred, untested []string
		By("with nothing in progress: plain ABOR (is ABOR implemented?), then IAC IP, IAC DM (DM urgent), ABOR")
		if err := InterceptGomegaFailure(func() { xferSynchAborIdle(ctx) }); err != nil {
			failed = append(failed, xferBrief(err))
		}
		variants := []struct {
			name string
			send func(s *Session)
		}{
			{"IAC IP, IAC DM with DM urgent (RFC 854 Synch), ABOR", func(s *Session) { s.TelnetSynch(ctx); xferSend(ctx, s, "ABOR") }},
			{"IAC IP IAC urgent, DM ABOR (BSD ftp(1), Net::FTP)", func(s *Session) { s.TelnetSynchBSD(ctx); xferSend(ctx, s, "ABOR") }},
		}
		for _, v := range variants {
			By("during a RETR: " + v.name)
			if err := InterceptGomegaFailure(func() {
				s := Login(ctx)
				x, ended := s.TryHeldRetr(ctx, big, 64<<10)
				if ended != "" {
					untested = append(untested, v.name+": "+ended)
					return
				}
				v.send(s)
				how := v.name + " during " + x.Cmd
				notImpl, late := xferAbortAnswer(ctx, s, x, how)
				if notImpl != "" {
					Problem(fmt.Sprintf("%s, yet a plain ABOR with nothing running was not refused with 500/502: ABOR is implemented, and the Telnet bytes before this one spoilt it (RFC 1123 §3.2.3: \"A host MUST be able to receive and ignore any Telnet control functions that it does not support\"). "+
						"Fix: strip Telnet IAC sequences (IAC IP, IAC DM, a lone urgent IAC) before parsing the verb", notImpl))
				}
				if late != "" {
					deferred = append(deferred, late)
				}
				s.Quit(ctx)
			}); err != nil {
				failed = append(failed, xferBrief(err))
			}
		}
		if len(failed) > 0 {
			Problem(fmt.Sprintf("ABOR after Telnet IP + Synch failed in %d of %d cases (RFC 959 §4.1 p.34 has clients send IP, Synch, then ABOR; §4.1.3 and §5.4 allow 426 then 226, or after a completed transfer its 226 then 225/226; RFC 1123 §3.2.3: ignore unsupported Telnet control functions). "+
				"Fix: skip Telnet IAC sequences before the verb and answer ABOR with a legal sequence, then the next command:\n- %s",
				len(failed), len(variants)+1, strings.Join(failed, "\n- ")))
		}
		if len(untested) == len(variants) {
			Skip(fmt.Sprintf("the idle case passed; none of the %d RETR cases could be held: %s", len(variants), untested[0]))
		}
		for _, u := range untested {
			Observe("not tested during a RETR", u)
		}
		if len(deferred) > 0 {
			Warn("XFER-013: the ABOR behind Telnet IP + Synch was acted on only after the transfer ended (%d of %d transfer cases):\n- %s",
				len(deferred), len(variants), strings.Join(deferred, "\n- "))
		}
	})

	// No RFC rule: RFC 959 §4.1 (p.34) has the user-FTP send Telnet IP and
	// Synch before ABOR precisely because a server may not read the control
	// connection during a transfer until something urgent arrives, and RFC
	// 1123 §4.1.3.3 only asks that ABOR be "accept[ed] and defer[red]".
	// Many clients send a bare ABOR, though, and wait for a 426 that such a
	// server sends only once the whole file is out (ProFTPD abor_only_*).
	Check("XFER-024", Slow, func(ctx SpecContext) {
		big := BigFile(ctx)
		s := Login(ctx)
		x := s.HeldRetr(ctx, big, 64<<10)
		xferSend(ctx, s, "ABOR")
		if err := InterceptGomegaFailure(func() { xferExpectAborted(ctx, s, x, "plain ABOR (no Telnet IP/Synch) during a RETR") }); err != nil {
			Problem(xferBrief(err) + "\nRFC 959 §4.1 lets a server wait for Telnet IP + Synch before it looks at the control connection, so this is no MUST failure, but clients that send a bare ABOR hang until the file is out. " +
				"Fix: keep reading the control connection during a transfer (between data writes) and act on ABOR whether or not Telnet IP/Synch came first")
		}
	})

	// RFC 959 §5.4: after 125/150, RETR's completion replies are "226, 250"
	// or "425, 426, 451" — 426 "Connection closed; transfer aborted". 226
	// ("Requested file action successful") would claim a transfer the
	// client cut short was complete, and a 5xx is not a RETR completion.
	Check("XFER-014", func(ctx SpecContext) {
		big := BigFile(ctx)
		s := Login(ctx)
		x := s.HeldRetr(ctx, big, 64<<10)
		if tc, ok := x.Data.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		x.Data.Close()
		s.Transcript().Notef("data: closed by the client after %d of %d bytes", x.Read, BigFileSize)
		r, err := s.TryNext(ctx, 8*time.Second)
		Expect(err).NotTo(HaveOccurred(), "no reply to RETR within 8 s after the client closed the data connection mid-transfer")
		if r.Preliminary() {
			// RFC 959 §4.2: "The server-FTP process may send at most, one
			// 1yz reply per command." Show what follows it.
			more, _ := s.Replies(ctx, 1, 3*time.Second)
			Expect(r).To(HaveCode(426, 451), "RETR cut short by the client after %d of %d bytes: a second preliminary reply instead of the completion (then %s)", x.Read, BigFileSize, xferCodes(more))
		}
		Expect(r).To(HaveCode(426, 451), "RETR cut short by the client after %d of %d bytes", x.Read, BigFileSize)
	})

	// RFC 959 §4.1.3 STAT: "The command may be sent during a file transfer
	// ... in which case the server will respond with the status of the
	// operation in progress"; RFC 1123 §4.1.3.3: "Even such a minimal
	// server must be prepared to accept and defer a STAT or ABOR command
	// that arrives during data transfer." The status may therefore come
	// before or after the transfer's 226, but it must come, and the
	// transfer must not suffer.
	Check("XFER-015", Slow, func(ctx SpecContext) {
		big := BigFile(ctx)
		s := Login(ctx)
		x := s.HeldRetr(ctx, big, 64<<10)
		xferSend(ctx, s, "STAT")
		// Keep the transfer moving slowly while waiting for the status.
		stop := make(chan struct{})
		slow := make(chan error, 1)
		go func() {
			_, err := x.DrainSlowly(ctx, 2*time.Second, 16<<10, 40*time.Millisecond, stop)
			slow <- err
		}()
		var replies []ftp.Reply
		r, err := s.TryNext(ctx, 1500*time.Millisecond)
		close(stop)
		slowErr := <-slow
		if err == nil {
			replies = append(replies, r)
		} else {
			Observe("STAT during the transfer", "no reply within 1.5 s: deferred (RFC 1123 §4.1.3.3 minimal server) or lost")
		}
		Expect(slowErr).To(Or(BeNil(), MatchError(ErrStopped), MatchError(context.DeadlineExceeded)), "reading the data while STAT was pending")
		n, derr := x.Drain(ctx, 3*Config().Timeout)
		Expect(derr).NotTo(HaveOccurred(), "draining the rest of the data after STAT (%d more bytes)", n)
		more, rerr := s.Replies(ctx, 2-len(replies), 5*time.Second)
		replies = append(replies, more...)
		Expect(rerr).NotTo(HaveOccurred(), "expected a status reply and the transfer's completion, got %s", xferCodes(replies))
		var status, final []ftp.Reply
		for _, r := range replies {
			if r.Is(211, 212, 213) {
				status = append(status, r)
			} else {
				final = append(final, r)
			}
		}
		Expect(status).To(HaveLen(1), "STAT during a transfer must get one status reply (211/212/213); replies: %s", xferCodes(replies))
		Expect(final).To(HaveLen(1), "replies: %s", xferCodes(replies))
		Expect(final[0]).To(HaveCode(226, 250), "the transfer must complete normally after STAT")
		Expect(x.Read).To(BeEquivalentTo(BigFileSize), "bytes received")
		Expect(x.SHA256()).To(Equal(BigFileSHA256()), "data received around a STAT must be intact")
		Observe("STAT reply during transfer", status[0].String())
		Expect(s.Do(ctx, "NOOP")).To(HaveCode(200))
	})

	// RFC 959 §4.1.3 STAT: with no argument "the server ... send[s] a
	// status response over the control connection" (§4.2.1: 211 "System
	// status"); with a path it sends "the status of the file" or its
	// listing. §5.4 allows STAT to answer "211, 212, 213" (and 450 for an
	// unavailable file, 550 by §4.2.1) without tying a code to the kind of
	// path, so any of the three is conformant for a file or a directory.
	// For a missing path no rule asks for the error: STAT of a path is
	// "analogous to the LIST command" (§4.1.3), and nothing says LIST of a
	// missing path must fail, so an empty 211/212/213 listing only warns
	// (a client cannot tell it from an empty directory).
	Check("XFER-016", func(ctx SpecContext) {
		s := Login(ctx)
		name := Name(ctx, "xfer016")
		s.Put(ctx, name, []byte("stat me\n"))
		const fix = "RFC 959 §5.4 lists 211, 212, 213 for STAT, 450/550 for a missing file"
		Expect(s.Do(ctx, "STAT")).To(And(HaveCode(211), BeWellFormed()), "STAT with no argument: RFC 959 §4.1.3/§4.2.1 want a 211 system status reply")
		Expect(s.Do(ctx, "STAT", name)).To(And(HaveCode(211, 212, 213), BeWellFormed()), "STAT of a file (%s)", fix)
		Expect(s.Do(ctx, "STAT", Scratch(ctx))).To(And(HaveCode(211, 212, 213), BeWellFormed()), "STAT of a directory (%s)", fix)
		missing := path.Join(Scratch(ctx), "no-such-file-xfer016")
		m := s.Do(ctx, "STAT", missing)
		if m.Is(211, 212, 213) {
			Expect(m).To(BeWellFormed(), "STAT of a missing path")
			Warn("XFER-016: STAT of a missing path (%s) answered %q, a status reply, not 450/550: RFC 959 §4.1.3 makes STAT of a path \"analogous to the LIST command\" and asks no error for a path that does not exist, so this is no failure, but a client cannot tell it from an empty directory. "+
				"Fix: answer 450 or 550 when the path does not exist", missing, m.Raw)
			return
		}
		Expect(m).To(HaveCode(450, 550), "STAT of a missing path (%s): a status reply (211/212/213) only warns; any other code is not a STAT reply", fix)
	})

	// RFC 959 §4.1.1 QUIT: "If file transfer is in progress, the
	// connection will remain open for result response and the server will
	// then close it."
	Check("XFER-017", Slow, func(ctx SpecContext) {
		big := BigFile(ctx)

		By("QUIT during a RETR")
		retrEnded := xferQuitDuringRetr(ctx, big)

		By("QUIT during a STOR")
		s := Login(ctx)
		name := Name(ctx, "xfer017")
		s.Do(ctx, "TYPE", "I")
		nc := s.Data(ctx, false)
		xferSend(ctx, s, "STOR "+name)
		r := s.Next(ctx)
		Expect(r.Preliminary()).To(BeTrue(), "STOR %s: %q", name, r.Raw)
		const size = 4 << 20
		src := fixtures.Reader(17, size)
		nc.SetWriteDeadline(time.Now().Add(Config().Timeout))
		_, werr := io.CopyN(nc, src, size/2)
		Expect(werr).NotTo(HaveOccurred(), "first half of the upload")
		xferSend(ctx, s, "QUIT")
		time.Sleep(300 * time.Millisecond)
		_, werr = io.Copy(nc, src)
		nc.Close()
		replies := xferUntil221(ctx, s, 2*Config().Timeout)
		xferExpectQuitAfterResult(replies, fmt.Sprintf("QUIT during STOR (upload of the second half: %s)", xferErrString(werr)))
		octx, cancel := Ctx(ctx)
		Expect(s.ReadEOF(octx)).To(Succeed(), "the server must close the control connection after 221")
		cancel()
		if replies[0].Is(226, 250) {
			Expect(werr).NotTo(HaveOccurred(), "upload of the second half after QUIT")
			check := Login(ctx)
			got := check.Get(ctx, name)
			Expect(ftp.SHA256Hex(got)).To(Equal(fixtures.SHA256(17, size)), "STOR reported complete after QUIT: stored %d of %d bytes", len(got), size)
		}
		if retrEnded != "" {
			Skip("QUIT during a STOR passed; during a RETR: " + retrEnded)
		}
	})

	// RFC 959 §5.2: "To prevent a race condition here, the server sends a
	// reply (226) after closing the data connection". Measured without
	// relying on goroutine timing: the client does not read the data until
	// the 226 has arrived, then requires the EOF to be already there (on
	// loopback the FIN sent before the 226 is queued before it).
	Check("XFER-018", func(ctx SpecContext) {
		s := Login(ctx)
		name := Name(ctx, "xfer018")
		payload := fixtures.Bytes(18, 4096)
		s.Put(ctx, name, payload)
		for _, cmd := range []string{"RETR " + name, "LIST " + Scratch(ctx)} {
			By(cmd)
			s.Do(ctx, "TYPE", "I")
			nc := s.Data(ctx, false)
			xferSend(ctx, s, cmd)
			r := s.Next(ctx)
			Expect(r.Preliminary()).To(BeTrue(), "%s: %q", cmd, r.Raw)
			final, err := s.TryNext(ctx, 3*time.Second)
			if err == nil {
				// The 226 is here; the FIN sent before it must be too.
				got, eof := xferReadAvailable(nc, 100*time.Millisecond)
				Expect(eof).To(BeTrue(), "%s: %q arrived while the data connection was still open (%d bytes read, no EOF within 100 ms after the reply)", cmd, final.Raw, len(got))
				Expect(final).To(HaveCode(226, 250))
				if strings.HasPrefix(cmd, "RETR") {
					Expect(xferSame(got, payload)).To(BeEmpty())
				}
			} else {
				// No completion yet: the server must already have closed
				// the data connection, or be waiting on us.
				got, eof := xferReadAvailable(nc, 2*time.Second)
				nc.Close()
				final := s.Next(ctx)
				Observe(cmd, fmt.Sprintf("no completion reply before the client read the data; data EOF seen first: %v (%d bytes); then %s", eof, len(got), final))
				Expect(final).To(HaveCode(226, 250))
				Expect(eof).To(BeTrue(), "%s: completion %q sent without the server closing the data connection first", cmd, final.Raw)
			}
			nc.Close()
		}
		By("timing of an ordinary RETR (data EOF vs. reply arrival)")
		res, _ := xferRun(ctx, s, "RETR "+name, nil)
		Expect(res).To(Complete())
		Observe("226 arrival minus data EOF", res.Final().At.Sub(res.DataEOF).String())
	})

	// RFC 959 §5.4: RETR/STOR answer 125/150 then 226/250; a zero-length
	// file is still a file (pyftpdlib test_stor_empty_file).
	Check("XFER-019", func(ctx SpecContext) {
		s := Login(ctx)
		name := Name(ctx, "xfer019")
		s.Do(ctx, "TYPE", "I")
		res, _ := xferRun(ctx, s, "STOR "+name, []byte{})
		Expect(res).To(Complete())
		Expect(res.Bytes).To(BeZero())
		res, got := xferRun(ctx, s, "RETR "+name, nil)
		Expect(res).To(Complete())
		Expect(got).To(BeEmpty(), "RETR of an empty file")
		if Feat(ctx).Has("SIZE") {
			r := s.Do(ctx, "SIZE", name)
			Expect(r).To(HaveCode(213))
			Expect(strings.TrimSpace(r.Text())).To(Equal("0"), "SIZE of an empty file: %q", r.Raw)
		}
	})

	// RFC 959 §4.1.3 APPE: "if the file at the pathname specified already
	// exists, then the data shall be appended to that file; otherwise the
	// file specified in the pathname shall be created at the server site."
	Check("XFER-020", func(ctx SpecContext) {
		s := Login(ctx)
		name := Name(ctx, "xfer020")
		a, b := fixtures.Tricky(20, 5000), fixtures.Bytes(21, 7000)
		s.Put(ctx, name, a)
		res, _ := xferRun(ctx, s, "APPE "+name, b)
		Expect(res).To(Complete())
		Expect(xferSame(s.Get(ctx, name), append(append([]byte{}, a...), b...))).To(BeEmpty(), "APPE to an existing file")
		fresh := Name(ctx, "xfer020-new")
		res, _ = xferRun(ctx, s, "APPE "+fresh, b)
		Expect(res).To(Complete(), "APPE creates a missing file")
		Expect(xferSame(s.Get(ctx, fresh), b)).To(BeEmpty(), "APPE to a new file")
	})

	// RFC 1123 §4.1.2.9: "a Server-FTP MUST return the actual file name in
	// the "125 Transfer Starting" or the "150 Opening Data Connection"
	// message that precedes the transfer ... 125 FILE: pppp / 150 FILE:
	// pppp where pppp represents the unique pathname of the file that will
	// be written."
	Check("XFER-021", func(ctx SpecContext) {
		s := Login(ctx)
		Expect(s.Do(ctx, "CWD", Scratch(ctx))).To(HaveClass(2))
		s.Do(ctx, "TYPE", "I")
		nc := s.Data(ctx, false)
		data := fixtures.Bytes(21, 3000)
		octx, cancel := Ctx(ctx)
		defer cancel()
		res := s.Transfer(octx, nc, "STOU", bytes.NewReader(data), nil)
		if len(res.Replies) > 0 && res.Replies[0].Is(500, 502) {
			Skip("STOU is not implemented (" + res.Replies[0].String() + "); it is not in RFC 1123 §4.1.2.13's minimum set")
		}
		Expect(res).To(Complete())
		m := regexp.MustCompile(`(?m)FILE: *(\S.*?)\s*$`).FindStringSubmatch(res.Replies[0].Text())
		Expect(m).NotTo(BeNil(), "STOU preliminary reply must carry \"FILE: <name>\": %q", res.Replies[0].Raw)
		got := s.Get(ctx, m[1])
		Expect(xferSame(got, data)).To(BeEmpty(), "the file named in %q", res.Replies[0].Raw)
	})

	// RFC 959 §5.1: "the following minimum implementation is required for
	// all servers: ... MODE - Stream"; §5.3: upper and lower case "also
	// applies to any symbols representing parameter values, such as A or a
	// for ASCII TYPE."
	Check("XFER-022", func(ctx SpecContext) {
		s := Login(ctx)
		Expect(s.Do(ctx, "MODE", "S")).To(HaveCode(200))
		Expect(s.Do(ctx, "MODE", "s")).To(HaveCode(200), "lower-case mode code (RFC 959 §5.3)")
		res, _ := xferRun(ctx, s, "LIST", nil)
		Expect(res).To(Complete(), "transfer after MODE S")
	})

	// No RFC: what a server does when the client stops reading a data
	// connection (pyftpdlib test_data_timeout; ProFTPD TimeoutStalled).
	// Servers' stall timeouts are usually minutes, so a quiet result is
	// the common one.
	Check("XFER-023", Slow, func(ctx SpecContext) {
		big := BigFile(ctx)
		s := Login(ctx)
		x := s.HeldRetr(ctx, big, 64<<10)
		r, err := s.TryNext(ctx, 3*time.Second)
		if err != nil {
			Observe("stalled RETR, 3 s", "no reply on the control connection")
			x.Data.Close()
			r, err := s.TryNext(ctx, 2*time.Second)
			Observe("after the client closed the stalled data connection", xferReplyOrErr(r, err))
		} else {
			Observe("stalled RETR, reply within 3 s", r.String())
		}
		octx, cancel := Ctx(ctx)
		defer cancel()
		nop, err := s.Cmd(octx, "NOOP")
		Observe("session after the stall (NOOP)", xferReplyOrErr(nop, err))
	})
})

// xferSend writes one command line, failing the spec on a network error.
func xferSend(ctx context.Context, s *Session, line string) {
	GinkgoHelper()
	octx, cancel := Ctx(ctx)
	defer cancel()
	Expect(s.SendLine(octx, line)).To(Succeed(), "send %q", line)
}

// xferExpectAborted checks the RFC 959 §4.1.3 ABOR sequence for a held
// transfer: exactly 426 then 226, the data connection closed, the control
// connection still in sync. While waiting for the replies the client keeps
// reading the data slowly (as BSD ftp(1) drains after ABOR), so a server
// that checks the control connection between writes gets its chance; a
// server that only looks after the whole file is sent has deferred the
// ABOR, which the rule does not allow.
func xferExpectAborted(ctx context.Context, s *Session, x *Held, how string) {
	GinkgoHelper()
	first, err := xferFirstReplyReadingSlowly(ctx, s, x)
	if err != nil {
		// Nothing yet: let the transfer finish to show what the server
		// does with the ABOR it has not acted on.
		n, derr := x.Drain(ctx, 3*Config().Timeout)
		later, _ := s.Replies(ctx, 2, time.Second)
		Expect(err).NotTo(HaveOccurred(), "%s: no reply within %v while %s was in progress (the client kept reading slowly); after the client read the remaining %d bytes (%s) the server sent %s",
			how, xferAbortWindow, x.Cmd, n, xferErrString(derr), xferCodes(later))
	}
	second, err := s.TryNext(ctx, 5*time.Second)
	replies := []ftp.Reply{first}
	if err == nil {
		replies = append(replies, second)
	}
	Expect(first).To(HaveCode(426), "%s: first reply must be 426 for the aborted %s (replies %s)", how, x.Cmd, xferCodes(replies))
	Expect(err).NotTo(HaveOccurred(), "%s: no 226 for the ABOR after the 426 (replies %s)", how, xferCodes(replies))
	Expect(second).To(HaveCode(226), "%s: second reply must be 226 for the ABOR", how)
	n, derr := x.Drain(ctx, 3*time.Second)
	Expect(derr == nil || xferIsReset(derr)).To(BeTrue(), "%s: the data connection must be closed after ABOR (read %d more bytes, then %v)", how, n, derr)
	Expect(x.Read).To(BeNumerically("<", BigFileSize), "%s: the whole file arrived: the transfer was not aborted", how)
	Expect(s.Do(ctx, "NOOP")).To(HaveCode(200), "%s: control connection after the ABOR", how)
}

// xferFirstReplyReadingSlowly waits up to xferAbortWindow for the first
// reply after an ABOR while the client keeps reading the held download
// slowly (as BSD ftp(1) drains after ABOR), so a server that checks the
// control connection between writes gets its chance.
func xferFirstReplyReadingSlowly(ctx context.Context, s *Session, x *Held) (ftp.Reply, error) {
	stop := make(chan struct{})
	slow := make(chan error, 1)
	go func() {
		_, err := x.DrainSlowly(ctx, xferAbortWindow+time.Second, 16<<10, 40*time.Millisecond, stop)
		slow <- err
	}()
	first, err := s.TryNext(ctx, xferAbortWindow)
	close(stop)
	<-slow
	return first, err
}

// xferExpectAbortAnswered is XFER-012's rule for an ABOR sent during a
// held download (xferAbortAnswer): deferring warns, an ABOR refused with
// 500/502 is not implemented (RFC 1123 §4.1.5: MAY): skip.
func xferExpectAbortAnswered(ctx context.Context, s *Session, x *Held, how string) {
	GinkgoHelper()
	notImpl, late := xferAbortAnswer(ctx, s, x, how)
	if notImpl != "" {
		Skip(notImpl)
	}
	if late != "" {
		Warn("XFER-012: %s", late)
	}
}

// xferAbortAnswer checks the answer to an ABOR sent during a held
// download: the server may act at once (426 then 226, data connection
// closed early) or defer the ABOR until the transfer has ended (the
// transfer's 226/250, then 225/226 for the ABOR); either way the control
// connection must stay in sync, or it fails. It returns notImpl when ABOR
// was refused with 500/502 (the caller decides whether that means "not
// implemented") and late when the ABOR was deferred (the caller warns).
func xferAbortAnswer(ctx context.Context, s *Session, x *Held, how string) (notImpl, late string) {
	GinkgoHelper()
	at := x.Read
	first, err := xferFirstReplyReadingSlowly(ctx, s, x)
	if err == nil && first.Is(500, 502) {
		return fmt.Sprintf("%s: ABOR got %q: ABOR is not implemented (RFC 1123 §4.1.5: MAY; RFC 959 §5.4 allows 500/502)", how, first.Raw), ""
	}
	var replies []ftp.Reply
	var rest int64
	var derr error
	if err == nil {
		// The server acted while the transfer was running: the data
		// connection must end within moments of the 426.
		replies = append(replies, first)
		more, _ := s.Replies(ctx, 1, 5*time.Second)
		replies = append(replies, more...)
		rest, derr = x.Drain(ctx, 3*time.Second)
	} else {
		// Nothing while the transfer ran: let it finish and read what the
		// server sends for the transfer and for the ABOR.
		rest, derr = x.Drain(ctx, 3*Config().Timeout)
		replies, _ = s.Replies(ctx, 2, 5*time.Second)
	}
	seq := xferCodes(replies)
	whole := x.Read >= BigFileSize
	if len(replies) == 2 && replies[0].Is(226, 250) && replies[1].Is(500, 502) {
		return fmt.Sprintf("%s: the transfer ended with %q and ABOR got %q: ABOR is not implemented (RFC 1123 §4.1.5: MAY; RFC 959 §5.4 allows 500/502)", how, replies[0].Raw, replies[1].Raw), ""
	}
	aborted := len(replies) == 2 && replies[0].Is(426) && replies[1].Is(226)
	deferred := len(replies) == 2 && replies[0].Is(226, 250) && replies[1].Is(225, 226) && whole
	if !aborted && !deferred {
		if len(replies) < 2 {
			seq += " and nothing more within 5 s (RFC 959 §4.2: \"Every command must generate at least one reply\")"
		}
		Problem(fmt.Sprintf("%s after %d bytes: the client kept reading (slowly for %v, then whatever came: %d of %d bytes in all, reading ended with %s); the server sent %s. "+
			"RFC 959 §4.1.3 allows 426 then 226 when the transfer is aborted, or, when the transfer had completed, its 226 then 226 (or 225, §5.4) for the ABOR. "+
			"Fix: answer ABOR with 426 for the aborted transfer then 226, or finish the transfer's reply first and then answer the ABOR",
			how, at, xferAbortWindow, x.Read, BigFileSize, xferErrString(derr), seq))
	}
	if aborted && !whole {
		Expect(derr == nil || xferIsReset(derr)).To(BeTrue(), "%s: after %s the data connection stayed open (the client read %d more bytes in 3 s, then %s); RFC 959 §4.1.3: the server \"aborts the FTP service in progress and closes the data connection\". Fix: close the data connection before sending 426",
			how, seq, rest, xferErrString(derr))
	}
	xferExpectInSync(ctx, s, how+", answered "+seq, "send exactly the ABOR sequence, then answer the next command")
	if whole {
		late = fmt.Sprintf("%s: no reply while the transfer ran (the client kept reading for %v); the server sent the whole %d-byte file, then %s. "+
			"That is allowed (RFC 1123 §4.1.3.3: a minimal server must \"accept and defer\" an ABOR during a transfer), but the client waits for the whole file. "+
			"Fix: watch the control connection (or urgent data) during a transfer and abort at once with 426 then 226", how, xferAbortWindow, x.Read, seq)
	}
	return "", late
}

// xferExpectInSync sends NOOP after what (a description of the exchange)
// and requires its 200 within --ftp.timeout: the control connection is
// still in step (RFC 959 §4.2: every command gets its reply, in order).
func xferExpectInSync(ctx context.Context, s *Session, what, fix string) {
	GinkgoHelper()
	octx, cancel := Ctx(ctx)
	n, err := s.Cmd(octx, "NOOP")
	cancel()
	if err != nil {
		Problem(fmt.Sprintf("after %s, NOOP got no reply within %v (%v): the control connection is out of step (RFC 959 §4.2: every command gets its reply, in order). Fix: %s", what, Config().Timeout, err, fix))
	}
	if !n.Is(200) {
		Problem(fmt.Sprintf("after %s, NOOP got %q, not 200: the control connection is out of step (RFC 959 §4.2: every command gets its reply, in order). Fix: %s", what, n.Raw, fix))
	}
}

// xferSynchAborIdle is XFER-013 with nothing running. A plain ABOR on a
// first session tells whether ABOR is implemented; then IAC IP, IAC DM (DM
// urgent), ABOR on a second session must get a reply (RFC 959 §4.2) and
// leave the control connection in sync, and that reply must be 225/226
// (RFC 959 §4.1.3, §5.4) unless the plain ABOR got 500/502: then ABOR is
// not implemented (RFC 1123 §4.1.5 makes it MAY) and the check skips.
func xferSynchAborIdle(ctx context.Context) {
	GinkgoHelper()
	probe := Login(ctx)
	octx, cancel := Ctx(ctx)
	plain, perr := probe.Cmd(octx, "ABOR")
	cancel()
	notImpl := perr == nil && plain.Is(500, 502)
	s := Login(ctx)
	s.TelnetSynch(ctx)
	xferSend(ctx, s, "ABOR")
	const how = "no transfer running: sent IAC IP, IAC DM (DM as TCP urgent data), ABOR"
	r, err := s.TryNext(ctx, Config().Timeout)
	if err != nil {
		Problem(fmt.Sprintf("%s; no reply came back within %v (%v), though a plain ABOR got %s. RFC 959 §4.2: \"Every command must generate at least one reply\", and RFC 1123 §3.2.3: \"A host MUST be able to receive and ignore any Telnet control functions that it does not support\". "+
			"Fix: skip Telnet IAC sequences (and the urgent byte) before parsing the verb", how, Config().Timeout, err, xferReplyOrErr(plain, perr)))
	}
	if notImpl {
		// The Telnet bytes must not swallow the line (checked above); what
		// ABOR itself does is not at issue when it is not implemented.
		xferExpectInSync(ctx, s, fmt.Sprintf("%s (answered %q)", how, r.Raw), "send exactly one reply to the Telnet-prefixed line")
		Skip(fmt.Sprintf("a plain ABOR with nothing running got %q: ABOR is not implemented (RFC 1123 §4.1.5: MAY; RFC 959 §5.4 allows 500/502); the ABOR behind Telnet IP + Synch got %q", plain.Raw, r.Raw))
	}
	if !r.Is(225, 226) {
		Problem(fmt.Sprintf("%s; got %q, though a plain ABOR got %s. RFC 959 §4.1.3 wants 226 (or 225, §5.4) for an ABOR with nothing to abort, and RFC 1123 §3.2.3: \"A host MUST be able to receive and ignore any Telnet control functions that it does not support\". "+
			"Fix: skip Telnet IAC sequences before parsing the verb and answer ABOR 226", how, r.Raw, xferReplyOrErr(plain, perr)))
	}
	xferExpectInSync(ctx, s, fmt.Sprintf("%s (answered %q)", how, r.Raw), "send exactly one reply to the Telnet-prefixed ABOR")
}

// xferAbortWindow bounds the wait for the 426 after ABOR during a held
// transfer: a server that acts on ABOR answers within milliseconds.
const xferAbortWindow = 5 * time.Second

// xferDecidedGrace is how long xferUntil221 still listens for replies
// that can no longer change the verdict.
const xferDecidedGrace = time.Second

// xferUntil221 reads replies until a 221, the end of the connection, an
// idle period of d, or four replies. Once a second reply is not the 221
// the verdict is decided (xferExpectQuitAfterResult wants exactly the
// result then 221), so later replies are read only for the message, within
// xferDecidedGrace: pure-ftpd sends 426, 226 and nothing more, and waiting
// d (30 s) for a third reply changed nothing.
func xferUntil221(ctx context.Context, s *Session, d time.Duration) []ftp.Reply {
	var out []ftp.Reply
	for len(out) < 4 {
		wait := d
		if len(out) >= 2 {
			wait = xferDecidedGrace
		}
		r, err := s.TryNext(ctx, wait)
		if err != nil {
			break
		}
		out = append(out, r)
		if r.Is(221) {
			break
		}
	}
	return out
}

// xferExpectQuitAfterResult: exactly the transfer's result (226/250, or
// 426 if the server aborts it), then 221.
func xferExpectQuitAfterResult(replies []ftp.Reply, how string) {
	GinkgoHelper()
	Expect(replies).NotTo(BeEmpty(), "%s: no reply at all", how)
	Expect(replies[0]).To(HaveCode(226, 250, 426), "%s: the first reply must be the transfer's result, not the QUIT's (replies %s)", how, xferCodes(replies))
	Expect(len(replies)).To(Equal(2), "%s: expected the transfer's result then 221, got %s", how, xferCodes(replies))
	Expect(replies[1]).To(HaveCode(221), "%s: 221 after the transfer's result", how)
}

// xferSame describes how got differs from want ("" when equal).
func xferSame(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	ctxOf := func(b []byte) []byte {
		lo, hi := max(0, i-8), min(len(b), i+8)
		return b[lo:hi]
	}
	return fmt.Sprintf("got %d bytes, want %d; first difference at offset %d: got %q, want %q (sha256 got %s want %s)",
		len(got), len(want), i, ctxOf(got), ctxOf(want), ftp.SHA256Hex(got)[:12], ftp.SHA256Hex(want)[:12])
}

func xferHead(b []byte) []byte { return b[:min(len(b), 64)] }

func xferCodes(rs []ftp.Reply) string {
	if len(rs) == 0 {
		return "no replies"
	}
	var s []string
	for _, r := range rs {
		s = append(s, strconv.Quote(string(r.Raw)))
	}
	return strings.Join(s, ", ")
}

func xferReplyOrErr(r ftp.Reply, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return r.String()
}

func xferErrString(err error) string {
	if err == nil {
		return "EOF"
	}
	return err.Error()
}

func xferIsReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "connection reset") ||
		// a TLS data connection (PROT P) the server closed in the middle
		// of a record or without close_notify: cut short, as an abort does
		errors.Is(err, io.ErrUnexpectedEOF)
}

// xferSkipUnlessREST skips when REST is unimplemented and FEAT does not
// claim REST STREAM (RFC 3659 §5: an optional extension).
func xferSkipUnlessREST(ctx context.Context, r ftp.Reply) {
	if r.Is(500, 502) && !Feat(ctx).Has("REST STREAM") {
		Skip("REST is not implemented (" + r.String() + ") and FEAT does not list REST STREAM (RFC 3659 §5 is optional)")
	}
}

// xferReadAvailable reads what the data connection holds within d and
// reports whether it reached EOF (or a reset, which is also a close).
func xferReadAvailable(nc net.Conn, d time.Duration) ([]byte, bool) {
	nc.SetReadDeadline(time.Now().Add(d))
	var b bytes.Buffer
	_, err := io.Copy(&b, nc)
	eof := err == nil || xferIsReset(err)
	if eof {
		nc.Close()
	}
	return b.Bytes(), eof
}

// xferSplitCRLF returns a reader that yields text in chunks that end
// between a CR and its LF, pausing between chunks so each goes out as its
// own TCP segment.
func xferSplitCRLF(text []byte, pause time.Duration) io.Reader {
	var chunks [][]byte
	start := 0
	for i := 0; i < len(text)-1; i++ {
		if text[i] == '\r' && text[i+1] == '\n' {
			chunks = append(chunks, text[start:i+1])
			start = i + 1
		}
	}
	chunks = append(chunks, text[start:])
	return &xferChunks{chunks: chunks, pause: pause}
}

type xferChunks struct {
	chunks [][]byte
	pause  time.Duration
	n      int
}

func (c *xferChunks) Read(p []byte) (int, error) {
	if c.n >= len(c.chunks) {
		return 0, io.EOF
	}
	if c.n > 0 {
		time.Sleep(c.pause)
	}
	k := copy(p, c.chunks[c.n])
	c.chunks[c.n] = c.chunks[c.n][k:]
	if len(c.chunks[c.n]) == 0 {
		c.n++
	}
	return k, nil
}

// xferRun is Session.Xfer (PASV, then cmdline over the new data
// connection) bounded by one --ftp.timeout: a server that sends its final
// reply but leaves the data connection open must not stall the spec for
// longer.
func xferRun(ctx context.Context, s *Session, cmdline string, upload []byte) (ftp.TransferResult, []byte) {
	GinkgoHelper()
	nc := s.Data(ctx, false)
	var sink bytes.Buffer
	var up io.Reader
	if upload != nil {
		up = bytes.NewReader(upload)
	}
	octx, cancel := Ctx(ctx)
	defer cancel()
	return s.Transfer(octx, nc, cmdline, up, &sink), sink.Bytes()
}

// xferBrief is a failure message in a line: the description and the
// matcher's text, without the Go dump Gomega adds for an unexpected error.
func xferBrief(err error) string {
	msg, _, _ := strings.Cut(firstLines(err.Error(), 3), " Unexpected error:")
	return msg
}

// firstLines keeps the first n non-empty lines of a failure message, so a
// check that collects several failures shows each one, not one long dump.
func firstLines(msg string, n int) string {
	var out []string
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
		if len(out) == n {
			break
		}
	}
	return strings.Join(out, " ")
}

// xferQuitDuringRetr is XFER-017's RETR case: QUIT while a RETR is held,
// then the transfer's result, 221 and the close. It returns why the RETR
// could not be held ("" when it was, and passed).
func xferQuitDuringRetr(ctx SpecContext, big string) (ended string) {
	GinkgoHelper()
	s := Login(ctx)
	x, ended := s.TryHeldRetr(ctx, big, 64<<10)
	if ended != "" {
		return ended
	}
	xferSend(ctx, s, "QUIT")
	drained := make(chan error, 1)
	go func() { _, err := x.Drain(ctx, 3*Config().Timeout); drained <- err }()
	replies := xferUntil221(ctx, s, 3*Config().Timeout)
	derr := <-drained
	xferExpectQuitAfterResult(replies, "QUIT during RETR")
	if replies[0].Is(226, 250) {
		Expect(derr).NotTo(HaveOccurred(), "data connection of the completed RETR")
		Expect(x.SHA256()).To(Equal(BigFileSHA256()), "RETR reported complete: %d bytes received", x.Read)
	}
	octx, cancel := Ctx(ctx)
	defer cancel()
	Expect(s.ReadEOF(octx)).To(Succeed(), "the server must close the control connection after 221")
	return ""
}
