package suites

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/fixtures"
	"github.com/ftpharness/ftpharness/ftp"
	. "github.com/ftpharness/ftpharness/suites/framework"
	. "github.com/ftpharness/ftpharness/suites/matchers"
)

var _ = Describe("SEQ", Label("sequencing"), func() {

	// RFC 959 §5.4 (Connection Establishment): "120 / 220; 220; 421" — the
	// first reply on a new control connection is 220, possibly preceded by
	// 120, or 421 followed by the server closing the connection.
	Check("SEQ-001", func(ctx SpecContext) {
		s := seqDial(ctx, ftp.WithoutGreeting())
		var got []string
		for i := 0; ; i++ {
			r, err := s.TryNext(ctx, Config().Timeout)
			Expect(err).NotTo(HaveOccurred(), "waiting for the greeting (replies so far: %v)", got)
			got = append(got, r.String())
			if r.Code == 120 && i < 5 {
				continue
			}
			if r.Code == 421 {
				octx, cancel := Ctx(ctx)
				defer cancel()
				Expect(s.ReadEOF(octx)).To(Succeed(), "a 421 greeting must be followed by the server closing the connection")
				return
			}
			Expect(r).To(HaveCode(220), "greeting (after %v)", got)
			break
		}
		extra, err := s.Quiet(ctx, 300*time.Millisecond)
		Expect(err).NotTo(HaveOccurred(), "the connection failed right after the greeting")
		Expect(extra).To(BeNil(), "a second, unsolicited reply followed the 220 greeting: %v", extra)
	})

	// RFC 959 §4.1.1 / §5.4: "USER: 230; 530; 500, 501, 421; 331, 332" and
	// "PASS: 230; 202; 530; 500, 501, 503, 421; 332".
	Check("SEQ-002", func(ctx SpecContext) {
		s := seqDial(ctx)
		r := s.Do(ctx, "USER", Config().User)
		Expect(r).To(HaveCode(331, 332, 230), "USER")
		switch r.Code {
		case 230:
			Observe("USER alone logged in", r.String())
		case 332:
			Skip(fmt.Sprintf("USER answered %q: this account needs ACCT, which the harness has no value for (RFC 959 §5.4 lists 332 for USER)", r.Raw))
		default:
			Expect(s.Do(ctx, "PASS", Config().Password)).To(HaveCode(230, 202), "PASS")
		}
		Expect(s.Do(ctx, "PWD")).To(HaveCode(257), "PWD after login")
	})

	// RFC 959 §5.4: "PASS 230; 202; 530; 500, 501, 503, 421; 332" — §4.1.1
	// does not name the code for a PASS with no USER before it, so both 503
	// ("Bad sequence of commands") and 530 ("Not logged in") refuse it; a
	// login (230/202) does not.
	Check("SEQ-003", func(ctx SpecContext) {
		s := seqDial(ctx)
		r, err := s.TryCmd(ctx, "PASS "+Config().Password)
		Expect(err).NotTo(HaveOccurred(), "PASS without USER: the server closed the connection instead of answering 503 or 530")
		Expect(r).To(HaveCode(503, 530), "sent PASS as the first command (no USER), got %q; RFC 959 §5.4 refuses it with 503 (bad sequence) or 530 (not logged in); fix: refuse PASS until USER named an account", r.Raw)
	})

	// RFC 959 §4.1.1: PASS "must be immediately preceded by the user name
	// command" — a rule for the client's command order, so a server that
	// lets a NOOP in between breaks no requirement (INTEROP). A server
	// enforces it either by answering 503 to the PASS or by refusing the
	// interloping command itself as out of sequence (503).
	Check("SEQ-004", func(ctx SpecContext) {
		s := seqDial(ctx)
		u := s.Do(ctx, "USER", Config().User)
		if u.Code == 230 {
			Skip("USER alone logs in (no PASS step to check): " + u.String())
		}
		n := s.Do(ctx, "NOOP")
		p, err := s.TryCmd(ctx, "PASS "+Config().Password)
		Expect(err).NotTo(HaveOccurred(), "PASS after USER, NOOP: no reply")
		if n.Code == 503 {
			return // the interloper was refused as a sequence error: PASS still follows USER
		}
		Expect(p).To(HaveCode(503), "sent USER, NOOP (got %q), PASS: PASS was not refused although RFC 959 §4.1.1 says it \"must be immediately preceded by the user name command\" (503 bad sequence in §5.4); fix: answer 503 and restart the login at USER", n.Raw)
	})

	// RFC 959 §5.4: PASS "530" (not logged in); a failed login restarts the
	// USER/PASS sequence (§4.2) — the session itself stays open.
	Check("SEQ-005", Slow, func(ctx SpecContext) {
		s := seqDial(ctx)
		Expect(s.Do(ctx, "USER", Config().User)).To(HaveCode(331))
		r, err := s.TryCmd(ctx, "PASS "+Config().Password+"-wrong")
		Expect(err).NotTo(HaveOccurred(), "wrong password: no reply")
		Expect(r).To(HaveCode(530), "PASS with a wrong password")
		u, err := s.TryCmd(ctx, "USER "+Config().User)
		Expect(err).NotTo(HaveOccurred(), "after one wrong password the server closed the session (retry impossible)")
		Expect(u).To(HaveCode(331), "USER after a failed login")
		p, err := s.TryCmd(ctx, "PASS "+Config().Password)
		Expect(err).NotTo(HaveOccurred(), "retry PASS: no reply")
		Expect(p).To(HaveCode(230, 202), "PASS with the right password after one failure")
	})

	// RFC 959 §5.4: "the command-reply sequence ... must be strictly adhered
	// to" — before login each command is refused with a code of its own
	// §5.4 row (530 "Not logged in" is in every one), one reply per command,
	// and the session continues. §4.1.1 says only that USER "will normally
	// be the first command ... (some servers may require this)": a command
	// accepted before login breaks no requirement and only warns (INTEROP;
	// pyftpdlib test_auth_cmds and ProFTPD's *_fails_login_required expect
	// 530).
	Check("SEQ-006", func(ctx SpecContext) {
		feats := Feat(ctx)
		s := seqDial(ctx)
		local := s.LocalIP()
		port, _ := ftp.FormatPORT(local.To4(), 40000)
		cmds := []struct{ line, optional string }{
			{"CWD /", ""}, {"CDUP", ""}, {"PWD", ""}, {"LIST", ""}, {"NLST", ""},
			{"MLSD", "MLSD"}, {"MLST", "MLST"}, {"RETR ftph-nosuch", ""}, {"STOR ftph-nosuch", ""},
			{"APPE ftph-nosuch", ""}, {"STOU", "STOU"}, {"DELE ftph-nosuch", ""}, {"MKD ftph-nosuch", ""},
			{"RMD ftph-nosuch", ""}, {"RNFR ftph-nosuch", ""}, {"RNTO ftph-nosuch", ""},
			{"SIZE ftph-nosuch", "SIZE"}, {"MDTM ftph-nosuch", "MDTM"}, {"REST 0", "REST STREAM"},
			{"PASV", ""}, {"EPSV", "EPSV"}, {"PORT " + port, ""}, {"EPRT " + ftp.FormatEPRT(local, 40000), "EPRT"},
			{"STAT /", ""},
		}
		if port == "" { // an IPv6 client address: PORT cannot name it (RFC 2428 §1)
			cmds = slices.DeleteFunc(cmds, func(c struct{ line, optional string }) bool { return c.line == "PORT " })
		}
		var bad, accepted []string
		for _, c := range cmds {
			r, err := s.TryCmd(ctx, c.line)
			verb, _, _ := strings.Cut(c.line, " ")
			switch {
			case err != nil:
				bad = append(bad, fmt.Sprintf("%s: no reply (%v)", verb, err))
			case r.Code == 530:
			case c.optional != "" && r.Is(500, 502) && (c.optional == "STOU" || !feats.Has(c.optional)):
				// optional command the server does not implement at all
			case r.Class() < 4:
				accepted = append(accepted, fmt.Sprintf("%s: %q", verb, r.Raw))
			case !seqRefusalAllowed(verb, r):
				bad = append(bad, fmt.Sprintf("%s: %q (not a refusal RFC 959 §5.4 lists for %s)", verb, r.Raw, verb))
			}
			if err == nil && !r.Preliminary() && !r.Is(227, 229) {
				if extra, qerr := s.Quiet(ctx, 75*time.Millisecond); extra != nil || qerr != nil {
					bad = append(bad, fmt.Sprintf("%s: more than one reply to one command (extra %s, %v)", verb, seqDescribePtr(extra), qerr))
				}
			}
			if err != nil || r.Preliminary() || r.Is(227, 229) {
				// the server started something (or died): go on in a fresh session
				s.Close()
				s = seqDial(ctx)
			}
		}
		// The session continues after the refusals: logging in still works.
		octx, cancel := Ctx(ctx)
		defer cancel()
		if err := s.Login(octx, Config().User, Config().Password); err != nil {
			bad = append(bad, fmt.Sprintf("login after the refused commands failed: %v", err))
		}
		if len(accepted) > 0 {
			Warn("SEQ-006 (INTEROP, RFC 959 §4.1.1 lets servers serve commands before USER): sent before login, these commands were accepted instead of refused with 530: %s; fix: answer 530 until the login completes", strings.Join(accepted, "; "))
		}
		Expect(bad).To(BeEmpty(), "sent file, transfer and data-setup commands before login: each must get one reply, and a refusal must use a code of the command's RFC 959 §5.4 row (530 \"Not logged in\"; 500/502 for an optional command the server lacks); fix: answer 530 once per command")
	})

	// RFC 2389 §3 (FEAT is meant for discovery before login), RFC 7151 §3
	// ("If a HOST command is sent, it MUST be issued before the user is
	// authenticated"), RFC 4217 §4 (AUTH precedes USER):
	// these commands, and NOOP/SYST/HELP/STAT/QUIT, are served before login.
	Check("SEQ-007", func(ctx SpecContext) {
		s := seqDial(ctx)
		var bad []string
		for _, line := range []string{"FEAT", "HELP", "NOOP", "SYST", "STAT", "HOST " + s.RemoteIP().String(), "OPTS UTF8 ON"} {
			r, err := s.TryCmd(ctx, line)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s: no reply (%v)", line, err))
				s = seqDial(ctx)
				continue
			}
			if r.Code == 530 {
				bad = append(bad, fmt.Sprintf("%s: %q", line, r.Raw))
			}
		}
		q, err := s.TryCmd(ctx, "QUIT")
		if err != nil || q.Code != 221 {
			bad = append(bad, fmt.Sprintf("QUIT: %q (%v)", q.Raw, err))
		}
		t := seqDial(ctx)
		a, err := t.TryCmd(ctx, "AUTH TLS")
		if err != nil || a.Code == 530 {
			bad = append(bad, fmt.Sprintf("AUTH TLS: %q (%v)", a.Raw, err))
		}
		t.Close() // a 234 would start a handshake we do not perform here
		Expect(bad).To(BeEmpty(), "commands usable before login were answered 530 (not logged in)")
	})

	// RFC 959 §4.1.1: "Servers may allow a new USER command to be entered at
	// any point in order to change the access control and/or accounting
	// information." What PASS/USER do after a completed login is policy.
	Check("SEQ-008", func(ctx SpecContext) {
		s := seqLogin(ctx)
		p, err := s.TryCmd(ctx, "PASS "+Config().Password)
		Observe("PASS after login", seqDescribe(p, err))
		u, err := s.TryCmd(ctx, "USER "+Config().User)
		Observe("USER <same user> after login", seqDescribe(u, err))
		if err == nil && u.Code == 331 {
			w, err := s.TryCmd(ctx, "PWD")
			Observe("PWD between the new USER and PASS", seqDescribe(w, err))
			p2, err := s.TryCmd(ctx, "PASS "+Config().Password)
			Observe("PASS after the new USER", seqDescribe(p2, err))
		}
		t := seqLogin(ctx)
		a, err := t.TryCmd(ctx, "USER anonymous")
		Observe("USER anonymous after login", seqDescribe(a, err))
		w, err := t.TryCmd(ctx, "PWD")
		Observe("PWD after USER anonymous", seqDescribe(w, err))
	})

	// RFC 959 §4.1.1 REIN: "This command terminates a USER, flushing all I/O
	// and account information ... leaving the control connection open";
	// §5.4: "REIN 120 220; 220; 421; 500, 502".
	Check("SEQ-009", func(ctx SpecContext) {
		s := seqLogin(ctx)
		r := s.Do(ctx, "REIN")
		if r.Is(500, 502) {
			Observe("REIN not implemented", r.String())
			Expect(s.Do(ctx, "PWD")).To(HaveCode(257), "the session after a refused REIN")
			return
		}
		if r.Code == 120 {
			r = s.Next(ctx)
		}
		Expect(r).To(HaveCode(220), "REIN must answer 220 (or 120 then 220), or 502 when unimplemented")
		Expect(s.Do(ctx, "PWD")).To(HaveCode(530), "PWD after REIN: the login must be flushed")
		Expect(s.Login(ctx, Config().User, Config().Password)).To(Succeed(), "logging in again after REIN")
	})

	// RFC 959 §4.1.1 QUIT: "This command terminates a USER and if file
	// transfer is not in progress, the server closes the control
	// connection"; §5.4: "QUIT 221; 500".
	Check("SEQ-010", func(ctx SpecContext) {
		s := seqLogin(ctx)
		Expect(s.Do(ctx, "QUIT")).To(HaveCode(221))
		octx, cancel := Ctx(ctx)
		defer cancel()
		Expect(s.ReadEOF(octx)).To(Succeed(), "after 221 the server must close the control connection")
	})

	// RFC 959 §4.2.1: "500 Syntax error, command unrecognized. This may
	// include errors such as command line too long." RFC 2389 §3.2 calls
	// "a 500 or 502 reply ... the normal "unrecognized command" reply that
	// any unknown command would elicit". Before login, 530 refuses it too;
	// only warned (INTEROP), since 530 hides that the verb is unknown.
	Check("SEQ-011", func(ctx SpecContext) {
		s := seqDial(ctx)
		var bad []string
		r, err := s.TryCmd(ctx, "XYZZ")
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("XYZZ before login: no reply, session lost (%v)", err))
			s = seqDial(ctx)
		case r.Code == 530:
			Warn("SEQ-011 (INTEROP): the unknown verb XYZZ sent before login answered %q; 500 or 502 (unrecognized, RFC 959 §4.2.1, RFC 2389 §3.2) tells the client the verb is unknown; fix: answer 500 to unknown verbs before the login check", r.Raw)
		case !r.Is(500, 502):
			bad = append(bad, fmt.Sprintf("XYZZ before login: %q", r.Raw))
		}
		s.MustLogin(ctx)
		r, err = s.TryCmd(ctx, "XYZZ arg")
		if err != nil {
			bad = append(bad, fmt.Sprintf("XYZZ after login: no reply, session lost (%v)", err))
		} else {
			if !r.Is(500, 502) {
				bad = append(bad, fmt.Sprintf("XYZZ after login: %q", r.Raw))
			}
			if n, err := s.TryCmd(ctx, "NOOP"); err != nil || n.Code != 200 {
				bad = append(bad, fmt.Sprintf("NOOP after the unknown verb: %q (%v)", n.Raw, err))
			}
		}
		Expect(bad).To(BeEmpty(), "an unknown verb must be answered 500 or 502 (RFC 959 §4.2.1, RFC 2389 §3.2) and leave the session usable; fix: answer unknown verbs with 500")
	})

	// RFC 959 §4.2.1: "502 Command not implemented", "202 Command not
	// implemented, superfluous at this site"; §5.4 lists "ACCT 230; 202;
	// 530; 500, 501, 503, 421" and "SMNT 202, 250; 500, 501, 502, 421, 530,
	// 550" — 500 is in both rows, so only codes outside them (plus 502)
	// fail.
	Check("SEQ-012", func(ctx SpecContext) {
		s := seqLogin(ctx)
		cases := []struct {
			line string
			ok   []int
		}{
			{"ACCT ftpharness", []int{202, 230, 530, 500, 501, 502, 503}},
			{"SMNT " + Scratch(ctx), []int{202, 250, 500, 501, 502, 530, 550}},
			// SITE arguments are server-defined (§4.1.3); an unknown SITE
			// subcommand is 500/501 per SITE's §5.4 set, or 202/502/504.
			{"SITE EXEC ftpharness-nosuch-command", []int{202, 500, 501, 502, 504}},
		}
		var bad []string
		for _, c := range cases {
			r := s.Do(ctx, c.line)
			if !r.Is(c.ok...) {
				bad = append(bad, fmt.Sprintf("%s: %q (want one of %v)", c.line, r.Raw, c.ok))
			}
		}
		Expect(bad).To(BeEmpty(), "known but unimplemented commands must answer a code of their RFC 959 §5.4 row (or 502 \"Command not implemented\"); fix: answer 502 or 202")
	})

	// RFC 959 §4.2.1: "501 Syntax error in parameters or arguments", "500
	// Syntax error, command unrecognized"; §5.3.1 makes the argument
	// mandatory for these verbs and every one's §5.4 row lists 500 and 501.
	// No reply fails; another refusal, or accepting the bare verb (CWD going
	// home), only warns (INTEROP): the RFC names no code for it.
	Check("SEQ-013", func(ctx SpecContext) {
		var bad, lenient []string
		u := seqDial(ctx)
		if r, err := u.TryCmd(ctx, "USER"); err != nil {
			bad = append(bad, fmt.Sprintf("USER: no reply (%v)", err))
		} else if !r.Is(500, 501) {
			lenient = append(lenient, fmt.Sprintf("USER: %q", r.Raw))
		}
		s := seqLogin(ctx)
		f := Name(ctx, "seq013")
		s.Put(ctx, f, []byte("x\n"))
		for _, verb := range []string{"RETR", "STOR", "CWD", "MKD", "DELE", "TYPE", "MODE", "STRU", "PORT", "REST", "RNFR", "RNTO"} {
			if verb == "RNTO" {
				s.Do(ctx, "RNFR", f) // RNTO's own argument error, not a sequence error
			}
			r, err := s.TryCmd(ctx, verb)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s: no reply (%v)", verb, err))
				s = seqLogin(ctx)
				continue
			}
			if r.Preliminary() {
				s.Wait(ctx, 3*time.Second)
			}
			if verb == "REST" && r.Is(500, 502) && !Feat(ctx).Has("REST STREAM") {
				continue // REST (RFC 3659) not implemented at all
			}
			if !r.Is(500, 501) {
				lenient = append(lenient, fmt.Sprintf("%s: %q", verb, r.Raw))
			}
		}
		if len(lenient) > 0 {
			Warn("SEQ-013 (INTEROP): verbs sent without their mandatory argument (RFC 959 §5.3.1) were not refused with 501 or 500: %s; fix: answer 501 \"Syntax error in parameters or arguments\"", strings.Join(lenient, "; "))
		}
		Expect(bad).To(BeEmpty(), "verbs sent without their argument must get a reply")
	})

	// RFC 959 §5.4: "TYPE/MODE/STRU 200; 500, 501, 504, 421, 530";
	// §4.2.1: "504 Command not implemented for that parameter", "501
	// Syntax error in parameters or arguments".
	Check("SEQ-014", func(ctx SpecContext) {
		s := seqLogin(ctx)
		cases := []struct {
			line string
			ok   []int
			why  string
		}{
			{"TYPE X", []int{500, 501, 504}, "X is not a type code"},
			{"TYPE A X", []int{500, 501, 504}, "X is not a form code"},
			{"MODE B", []int{200, 504}, "valid mode: 200 if implemented, else 504"},
			{"MODE C", []int{200, 504}, "valid mode: 200 if implemented, else 504"},
			{"STRU R", []int{200, 504}, "valid structure: 200 if implemented, else 504"},
			{"STRU P", []int{200, 504}, "valid structure: 200 if implemented, else 504"},
			{"MODE ?", []int{500, 501, 504}, "garbage is a syntax error (500/501) or an unimplemented mode (504)"},
		}
		var bad []string
		for _, c := range cases {
			r := s.Do(ctx, c.line)
			if !r.Is(c.ok...) {
				bad = append(bad, fmt.Sprintf("%s: %q (want %v: %s)", c.line, r.Raw, c.ok, c.why))
			}
		}
		// leave the session in a sane state
		s.Do(ctx, "TYPE", "I")
		s.Do(ctx, "MODE", "S")
		s.Do(ctx, "STRU", "F")
		Expect(bad).To(BeEmpty(), "RFC 959 §5.4 allows TYPE/MODE/STRU only 200 or 500, 501, 504, 421, 530; an unimplemented valid parameter is 504 (§4.2.1); fix: refuse unknown parameters with 501 or 504, never 200 or 502")
	})

	// RFC 959 §5.3: "The command codes themselves are alphabetic characters
	// terminated by the character <SP> (Space) if parameters follow and
	// Telnet-EOL otherwise. ... upper and lower case alphabetic characters
	// are to be treated identically."
	Check("SEQ-015", func(ctx SpecContext) {
		var bad []string
		cmp := func(upper, lower ftp.Reply, what string) {
			if upper.Code != lower.Code {
				bad = append(bad, fmt.Sprintf("%s: upper case %q, mixed case %q", what, upper.Raw, lower.Raw))
			}
		}
		s := seqLogin(ctx)
		cmp(s.Do(ctx, "NOOP"), s.Do(ctx, "nOoP"), "NOOP/nOoP")
		pairs := [][2]string{{"PASV", "pasv"}, {"EPSV", "Epsv"}}
		if s.IPv6() { // PASV has no IPv6 meaning (RFC 2428 §1; PASV-019 judges it)
			pairs = pairs[1:]
		}
		for _, pair := range pairs {
			u := seqPassive(ctx, s, pair[0])
			l := seqPassive(ctx, s, pair[1])
			cmp(u, l, pair[0]+"/"+pair[1])
		}
		a, b, c := Name(ctx, "seq015a"), Name(ctx, "seq015b"), Name(ctx, "seq015c")
		s.Put(ctx, a, []byte("rename me\n"))
		Expect(s.Do(ctx, "RNFR", a)).To(HaveCode(350))
		upper := s.Do(ctx, "RNTO", b)
		Expect(s.Do(ctx, "rnfr", b)).To(HaveCode(350), "lower-case rnfr")
		cmp(upper, s.Do(ctx, "rnto", c), "RNTO/rnto")
		q := seqLogin(ctx)
		r, err := q.TryCmd(ctx, "quit")
		if err != nil || r.Code != 221 {
			bad = append(bad, fmt.Sprintf("quit: %q (%v)", r.Raw, err))
		} else {
			octx, cancel := Ctx(ctx)
			defer cancel()
			if err := q.ReadEOF(octx); err != nil {
				bad = append(bad, fmt.Sprintf("quit: 221 but the connection stayed open (%v)", err))
			}
		}
		Expect(bad).To(BeEmpty(), "verbs must be case-insensitive")
	})

	// RFC 959 §4.1.3 RNFR/RNTO; §5.4: "RNFR 450, 550, ...; 350", "RNTO 250;
	// 532, 553; ...".
	Check("SEQ-016", func(ctx SpecContext) {
		s := seqLogin(ctx)
		from, to := Name(ctx, "seq016-from"), Name(ctx, "seq016-to")
		data := fixtures.Bytes(16, 1000)
		s.Put(ctx, from, data)
		Expect(s.Do(ctx, "RNFR", from)).To(HaveCode(350))
		Expect(s.Do(ctx, "RNTO", to)).To(HaveCode(250))
		Expect(s.Get(ctx, to)).To(Equal(data), "the renamed file's content")
		res, _ := s.Xfer(ctx, false, "RETR "+from, nil)
		Expect(res.OK()).To(BeFalse(), "the old name still exists after the rename: %s", res)
	})

	// RFC 959 §5.4: "RNTO 250; 532, 553; 500, 501, 502, 503, 421, 530";
	// RNFR "must be immediately followed by a RNTO command".
	Check("SEQ-017", func(ctx SpecContext) {
		s := seqLogin(ctx)
		Expect(s.Do(ctx, "RNTO", Name(ctx, "seq017"))).To(HaveCode(503), "RNTO without RNFR")
	})

	// RFC 959 §5.4: "RNFR 450, 550, 500, 501, 502, 421, 530; 350".
	Check("SEQ-018", func(ctx SpecContext) {
		s := seqLogin(ctx)
		Expect(s.Do(ctx, "RNFR", Name(ctx, "seq018-missing"))).To(HaveCode(550, 450), "RNFR of a file that does not exist")
	})

	// RFC 959 §4.1.3: RNFR "must be immediately followed by a "rename to"
	// command specifying the new file pathname" — a rule for the client's
	// command order; a server that still renames after an interloper breaks
	// no requirement (INTEROP). ProFTPD rnfr_list_bad_cmd_sequence_bug3829.
	Check("SEQ-019", func(ctx SpecContext) {
		s := seqLogin(ctx)
		a, b := Name(ctx, "seq019a"), Name(ctx, "seq019b")
		s.Put(ctx, a, []byte("a\n"))
		var bad []string
		Expect(s.Do(ctx, "RNFR", a)).To(HaveCode(350))
		// A server may also keep the rule by refusing the interloper itself
		// as out of sequence (503): then RNTO still follows RNFR.
		if n := s.Do(ctx, "NOOP"); n.Code != 503 {
			if r := s.Do(ctx, "RNTO", b); r.Code != 503 {
				bad = append(bad, fmt.Sprintf("RNFR, NOOP (%q), RNTO: RNTO got %q", n.Raw, r.Raw))
			}
		}
		t := seqLogin(ctx)
		c, d := Name(ctx, "seq019c"), Name(ctx, "seq019d")
		t.Put(ctx, c, []byte("c\n"))
		Expect(t.Do(ctx, "RNFR", c)).To(HaveCode(350))
		octx, cancel := context.WithTimeout(ctx, 2*Config().Timeout)
		defer cancel()
		refused := false
		nc, _, err := t.OpenPassive(octx, false, ftp.DataOptions{})
		if err == nil {
			res := t.Transfer(octx, nc, "LIST", nil, nil)
			refused = len(res.Replies) > 0 && res.Replies[0].Code == 503
			Observe("LIST between RNFR and RNTO", res.String())
		} else {
			var re *ftp.ReplyError
			refused = errors.As(err, &re) && re.Reply.Code == 503
			Observe("PASV between RNFR and RNTO", err.Error())
		}
		if r := t.Do(ctx, "RNTO", d); r.Code != 503 && !refused {
			bad = append(bad, fmt.Sprintf("RNFR, PASV, LIST, RNTO: RNTO got %q", r.Raw))
		}
		Expect(bad).To(BeEmpty(), "RFC 959 §4.1.3: RNFR \"must be immediately followed by a \"rename to\" command\"; after another command in between, RNTO should be refused with 503 (bad sequence, §5.4) rather than rename; fix: forget the RNFR name on any other command")
	})

	// RFC 1123 §4.1.2.10: "the server ... must not assume that the READ
	// boundaries correspond to Telnet end-of-line ... a single READ may
	// contain several commands" — each gets its reply, in order.
	Check("SEQ-020", func(ctx SpecContext) {
		s := seqDial(ctx)
		c := Config()
		octx, cancel := Ctx(ctx)
		defer cancel()
		Expect(s.WriteRaw(octx, []byte("USER "+c.User+"\r\nPASS "+c.Password+"\r\n"))).To(Succeed())
		rs := seqReadN(ctx, s, 2)
		Expect(rs[0]).To(HaveCode(331, 230), "first reply (to USER) of a pipelined USER+PASS")
		Expect(rs[1]).To(HaveCode(230, 202, 503), "second reply (to PASS) of a pipelined USER+PASS")
		seqExpectQuiet(ctx, s, "after the two replies to USER+PASS")

		Expect(s.WriteRaw(octx, bytes.Repeat([]byte("NOOP\r\n"), 10))).To(Succeed())
		for i, r := range seqReadN(ctx, s, 10) {
			Expect(r).To(HaveCode(200), "reply %d of 10 pipelined NOOPs", i+1)
		}
		seqExpectQuiet(ctx, s, "after the ten replies to ten NOOPs")

		Expect(s.WriteRaw(octx, []byte("NOOP\r\nPWD\r\nSYST\r\nTYPE I\r\nXYZZ\r\nNOOP\r\n"))).To(Succeed())
		rs = seqReadN(ctx, s, 6)
		want := []int{2, 2, 2, 2, 5, 2}
		codes := []int{200, 257, 215, 200, 0, 200}
		for i, r := range rs {
			Expect(r.Class()).To(Equal(want[i]), "reply %d of NOOP PWD SYST TYPE XYZZ NOOP sent in one write: %q", i+1, r.Raw)
			if codes[i] != 0 {
				Expect(r).To(HaveCode(codes[i]), "reply %d of NOOP PWD SYST TYPE XYZZ NOOP sent in one write", i+1)
			}
		}
		seqExpectQuiet(ctx, s, "after the six replies")
	})

	// RFC 1123 §4.1.2.10: the server must keep reading "until a complete
	// command line (terminated by CRLF) has been received".
	Check("SEQ-021", Slow, func(ctx SpecContext) {
		s := seqLogin(ctx)
		if tc, ok := s.TCPConn().(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		for _, line := range []string{"NOOP\r\n", "TYPE I\r\n", "PWD\r\n"} {
			b := []byte(line)
			for i := 0; i < len(b)-1; i++ {
				octx, cancel := Ctx(ctx)
				Expect(s.WriteRaw(octx, b[i:i+1])).To(Succeed())
				cancel()
				time.Sleep(15 * time.Millisecond)
			}
			early, err := s.Quiet(ctx, 200*time.Millisecond)
			Expect(err).NotTo(HaveOccurred(), "%q sent one byte per segment: the connection failed before the final LF", line)
			Expect(early).To(BeNil(), "%q sent one byte per segment: a reply arrived before the final LF: %v", line, early)
			octx, cancel := Ctx(ctx)
			Expect(s.WriteRaw(octx, b[len(b)-1:])).To(Succeed())
			cancel()
			r, err := s.Wait(ctx, Config().Timeout)
			if err != nil {
				Fail(fmt.Sprintf("%q sent one byte per segment (CR and LF in separate segments): no reply within %v after the final LF (%v)", line, Config().Timeout, err))
			}
			Expect(r.Class()).To(Equal(2), "%q sent one byte per segment: %q", line, r.Raw)
			seqExpectQuiet(ctx, s, fmt.Sprintf("after the reply to %q sent one byte per segment", line))
		}
	})

	// RFC 959 §5.4: "NOOP 200; 500 421", "SYST 215; 500, 501, 502, 421",
	// "ALLO 200; 202; 500, 501, 504, 421, 530", "HELP 211, 214; 500, 501,
	// 502, 421". RFC 1123 §4.1.2.13 puts NOOP, SYST and HELP in the minimum
	// implementation a server MUST support, so they must succeed. ALLO is
	// not in it: RFC 959 §4.1.3 says it "should be treated as a NOOP" where no
	// storage is reserved, so a refusal from its row (500, 501, 504) only
	// warns; a code outside the row fails.
	Check("SEQ-022", func(ctx SpecContext) {
		s := seqLogin(ctx)
		var bad []string
		for _, c := range []struct {
			line string
			ok   []int
		}{{"NOOP", []int{200}}, {"SYST", []int{215}}, {"HELP", []int{211, 214}}} {
			if r := s.Do(ctx, c.line); !r.Is(c.ok...) {
				bad = append(bad, fmt.Sprintf("%s: %q (want %v)", c.line, r.Raw, c.ok))
			}
		}
		switch r := s.Do(ctx, "ALLO 100"); {
		case r.Is(200, 202):
		case r.Is(421, 500, 501, 504, 530):
			Warn("SEQ-022 (SHOULD part): ALLO 100 answered %q; RFC 959 §4.1.3 says ALLO \"should be treated as a NOOP\" by servers that need no allocation (200 or 202); fix: answer 202", r.Raw)
		default:
			bad = append(bad, fmt.Sprintf("ALLO 100: %q (RFC 959 §5.4 allows 200, 202; 500, 501, 504, 421, 530)", r.Raw))
		}
		Expect(bad).To(BeEmpty(), "NOOP, SYST and HELP are in RFC 1123 §4.1.2.13's minimum implementation and must succeed with their RFC 959 §5.4 codes; ALLO must answer a code of its §5.4 row")
	})

	// RFC 959 §5.1: "The default values for transfer parameters are: TYPE -
	// ASCII Non-print; MODE - Stream; STRU - File."
	Check("SEQ-023", func(ctx SpecContext) {
		w := seqLogin(ctx)
		name := Name(ctx, "seq023")
		text := fixtures.TextLF(40)
		w.Put(ctx, name, text)

		s := seqLogin(ctx)
		st := s.Do(ctx, "STAT")
		Observe("STAT in a fresh session", st.String())
		def, ddata := s.Xfer(ctx, false, "RETR "+name, nil)
		Expect(def).To(Complete(), "RETR without TYPE")
		Expect(s.Do(ctx, "TYPE", "A")).To(HaveCode(200))
		asc, adata := s.Xfer(ctx, false, "RETR "+name, nil)
		Expect(asc).To(Complete(), "the RETR without TYPE worked but the same RETR after an explicit TYPE A failed: the default TYPE is not ASCII")
		Expect(s.Do(ctx, "TYPE", "I")).To(HaveCode(200))
		img, idata := s.Xfer(ctx, false, "RETR "+name, nil)
		Expect(img).To(Complete(), "RETR after TYPE I")
		Expect(ddata).To(Equal(adata), "a fresh session's transfer (%d bytes) must equal a TYPE A transfer (%d bytes; TYPE I gives %d): the default TYPE is ASCII", len(ddata), len(adata), len(idata))
		if bytes.Equal(adata, idata) {
			Observe("TYPE A and TYPE I transfers are identical", "the server does not convert line ends, so the default TYPE is judged from STAT")
			Expect(strings.ToUpper(st.Text())).NotTo(MatchRegexp(`TYPE:?\s*(BINARY|IMAGE|I\b)`), "STAT in a fresh session reports a non-ASCII TYPE: %q", st.Raw)
		}
		Expect(s.Do(ctx, "MODE", "S")).To(HaveCode(200), "MODE S (the default) must be accepted")
		Expect(s.Do(ctx, "STRU", "F")).To(HaveCode(200), "STRU F (the default) must be accepted")
	})

	// RFC 1123 §4.1.3.2: "An FTP server SHOULD have an idle timeout, which
	// will be configurable by the system manager. ... the default should be
	// at least 5 minutes." Waiting out a ≥ 5 min timeout is not done here:
	// the check verifies the server does not drop a session idle for 2 s,
	// and that any idle timeout the server declares (greeting, STAT, HELP)
	// is at least 5 minutes.
	Check("SEQ-024", Slow, func(ctx SpecContext) {
		s := seqLogin(ctx)
		var declared []string
		texts := []string{s.Greeting().Text()}
		if r, err := s.TryCmd(ctx, "STAT"); err == nil {
			texts = append(texts, r.Text())
		}
		for _, t := range texts {
			if d, what, ok := seqIdleTimeout(t); ok {
				declared = append(declared, what)
				Observe("declared idle timeout", fmt.Sprintf("%v (%q)", d, what))
				if d < 5*time.Minute {
					// RFC 1123 asks for a configurable timeout whose
					// *default* is at least 5 minutes: a shorter one may be
					// the operator's choice, which the harness cannot tell.
					Observe("declared idle timeout below the 5-minute default RFC 1123 §4.1.3.2 recommends (operator setting or default)", what)
				}
			}
		}
		if len(declared) == 0 {
			Observe("declared idle timeout", "none found in the greeting or STAT")
		}
		Observe("421 on idle timeout", "not exercised: it would take at least 5 minutes")
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
		r, err := s.TryCmd(ctx, "NOOP")
		Expect(err).NotTo(HaveOccurred(), "the server dropped a session idle for only 2 s (idle timeout must default to at least 5 min)")
		Expect(r).To(HaveCode(200), "NOOP after 2 s idle")
	})

	// Policy: ProFTPD rnfr_during_xfer_bug3492 refuses RNFR while a transfer
	// runs; others defer or serve the command. Recorded for RNFR, DELE, MKD.
	Check("SEQ-025", Slow, func(ctx SpecContext) {
		s := seqLogin(ctx)
		big := Name(ctx, "seq025-big")
		payload := fixtures.Bytes(25, 24<<20)
		s.Put(ctx, big, payload)
		var broken []string
		victim := Name(ctx, "seq025-victim")
		s.Put(ctx, victim, []byte("v\n"))
		for i, line := range []string{"RNFR " + victim, "DELE " + victim, "MKD " + Name(ctx, "seq025-dir")} {
			verb, _, _ := strings.Cut(line, " ")
			if i > 0 {
				// a fresh session: a pending RNFR must not affect the next probe
				s.Close()
				s = seqLogin(ctx)
			}
			during, after, res := seqDuringRetr(ctx, s, big, line, payload)
			Observe(verb+" while RETR streams", fmt.Sprintf("reply during transfer: %s; replies after: %s; transfer: %s", seqDescribePtr(during), seqJoin(after), res))
			if !strings.HasPrefix(res, "intact") {
				broken = append(broken, fmt.Sprintf("%s during RETR disturbed the transfer: %s", verb, res))
			}
			if during != nil && !during.Is(450, 226, 250) {
				broken = append(broken, fmt.Sprintf("%s answered %q during the transfer: refuse with 450 or defer", verb, during.Raw))
			}
		}
		Expect(broken).To(BeEmpty())
	})
})

// seqLogin is Login (every session's malformed replies are evidence for
// REPLY-001/002).
func seqLogin(ctx context.Context, opts ...ftp.Option) *Session {
	GinkgoHelper()
	return Login(ctx, opts...)
}

// seqDial is Dial.
func seqDial(ctx context.Context, opts ...ftp.Option) *Session {
	GinkgoHelper()
	return Dial(ctx, opts...)
}

func seqDescribe(r ftp.Reply, err error) string {
	if err != nil {
		return "no reply: " + err.Error()
	}
	return r.String()
}

func seqDescribePtr(r *ftp.Reply) string {
	if r == nil {
		return "none"
	}
	return r.String()
}

func seqJoin(rs []ftp.Reply) string {
	var p []string
	for _, r := range rs {
		p = append(p, r.String())
	}
	if len(p) == 0 {
		return "none"
	}
	return strings.Join(p, " / ")
}

// seqReadN reads n replies, each within the configured timeout.
func seqReadN(ctx context.Context, s *Session, n int) []ftp.Reply {
	GinkgoHelper()
	var out []ftp.Reply
	for i := 0; i < n; i++ {
		r, err := s.Wait(ctx, Config().Timeout)
		if err != nil {
			Fail(fmt.Sprintf("reply %d of %d did not arrive (got %s): %v", i+1, n, seqJoin(out), err))
		}
		out = append(out, r)
	}
	return out
}

// seqExpectQuiet requires that no further reply arrives for a short while.
func seqExpectQuiet(ctx context.Context, s *Session, where string) {
	GinkgoHelper()
	extra, err := s.Quiet(ctx, 300*time.Millisecond)
	Expect(err).NotTo(HaveOccurred(), "%s: the connection failed", where)
	Expect(extra).To(BeNil(), "%s: an extra reply arrived: %v", where, extra)
}

// seqPassive sends a PASV/EPSV spelling and, when it opened a listener,
// connects and closes (some servers stop reading the control connection
// until the passive connection arrives).
func seqPassive(ctx context.Context, s *Session, verb string) ftp.Reply {
	GinkgoHelper()
	r := s.Do(ctx, verb)
	var ep ftp.Endpoint
	var err error
	switch r.Code {
	case 227:
		ep, err = ftp.ParsePASV(r.Text())
	case 229:
		var p int
		p, err = ftp.ParseEPSV(r.Text())
		ep = ftp.Endpoint{IP: s.RemoteIP(), Port: p}
	default:
		return r
	}
	if err == nil {
		octx, cancel := Ctx(ctx)
		if nc, derr := s.DialData(octx, ep, ftp.DataOptions{}); derr == nil {
			nc.Close()
		}
		cancel()
	}
	return r
}

var (
	seqIdleRe1 = regexp.MustCompile(`(?i)(?:time-?out|idle|inactiv)[^0-9\n]{0,40}?(\d+)\s*(seconds?|secs?|s\b|minutes?|mins?|m\b)`)
	seqIdleRe2 = regexp.MustCompile(`(?i)(\d+)\s*(seconds?|secs?|minutes?|mins?)[^\n]{0,10}(?:of )?(?:inactivity|idle)`)
)

// seqIdleTimeout finds an idle timeout a server declares in free text, e.g.
// "Session timeout in seconds is 300", "disconnected after 15 minutes of
// inactivity".
func seqIdleTimeout(text string) (time.Duration, string, bool) {
	for _, line := range strings.Split(text, "\n") {
		l := strings.ToLower(line)
		if !strings.Contains(l, "timeout") && !strings.Contains(l, "idle") && !strings.Contains(l, "inactiv") && !strings.Contains(l, "time-out") {
			continue
		}
		if m := seqIdleRe1.FindStringSubmatch(line); m != nil {
			return seqDur(m[1], m[2]), strings.TrimSpace(line), true
		}
		if m := seqIdleRe2.FindStringSubmatch(line); m != nil {
			return seqDur(m[1], m[2]), strings.TrimSpace(line), true
		}
		// "Session timeout in seconds is 300"
		if strings.Contains(l, "seconds") {
			if m := regexp.MustCompile(`(\d+)`).FindStringSubmatch(line); m != nil {
				return seqDur(m[1], "s"), strings.TrimSpace(line), true
			}
		}
	}
	return 0, "", false
}

func seqDur(n, unit string) time.Duration {
	v, _ := strconv.Atoi(n)
	if strings.HasPrefix(strings.ToLower(unit), "m") {
		return time.Duration(v) * time.Minute
	}
	return time.Duration(v) * time.Second
}

// seqDuringRetr starts RETR big over PASV, reads a little, sends line,
// waits up to 1 s for a reply to it while the transfer is stalled, then
// drains the data and reads every remaining reply. res describes the
// transfer ("intact ..." when the data and 226 were right).
func seqDuringRetr(ctx context.Context, s *Session, big, line string, payload []byte) (during *ftp.Reply, after []ftp.Reply, res string) {
	GinkgoHelper()
	s.Do(ctx, "TYPE", "I")
	nc := s.Data(ctx, false)
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetReadBuffer(32 << 10)
	}
	pre := s.Do(ctx, "RETR", big)
	Expect(pre.Preliminary()).To(BeTrue(), "RETR %s: %q", big, pre.Raw)
	head := make([]byte, 64<<10)
	nc.SetReadDeadline(time.Now().Add(Config().Timeout))
	_, err := io.ReadFull(nc, head)
	Expect(err).NotTo(HaveOccurred(), "reading the start of the transfer")
	octx, cancel := Ctx(ctx)
	Expect(s.SendLine(octx, line)).To(Succeed())
	cancel()
	if r, err := s.Wait(ctx, time.Second); err == nil {
		during = &r
	} else if !IsTimeout(err) {
		return nil, nil, "control connection failed: " + err.Error()
	}
	var rest bytes.Buffer
	nc.SetReadDeadline(time.Now().Add(4 * Config().Timeout))
	_, derr := io.Copy(&rest, nc)
	nc.Close()
	got := append(head, rest.Bytes()...)
	want := 1
	if during == nil {
		want = 2
	}
	final226 := false
	for i := 0; i < want; i++ {
		r, err := s.TryNext(ctx, Config().Timeout)
		if err != nil {
			break
		}
		after = append(after, r)
		if r.Is(226, 250) {
			final226 = true
		}
	}
	if during != nil && during.Is(226, 250) {
		final226 = true
	}
	switch {
	case derr != nil:
		res = "data error: " + derr.Error()
	case !bytes.Equal(got, payload):
		res = fmt.Sprintf("corrupted: %d of %d bytes, content differs", len(got), len(payload))
	case !final226:
		res = "data complete but no 226"
	default:
		res = fmt.Sprintf("intact (%d bytes, 226)", len(got))
	}
	return during, after, res
}

// seqPreLoginRows supplements replyAllowed (RFC 959 §5.4) for the commands
// SEQ-006 sends that it does not list: PORT and APPE/STOU from §5.4, EPSV
// and EPRT from RFC 2428 (500, 501, 522), MLSD/MLST from RFC 3659 §7.2.1.
var seqPreLoginRows = map[string][]int{
	"PORT": {500, 501, 530},
	"APPE": {450, 452, 532, 550, 553, 500, 501, 502, 530, 425},
	"STOU": {450, 452, 532, 553, 500, 501, 530, 425},
	"EPSV": {500, 501, 522, 530},
	"EPRT": {500, 501, 522, 530},
	"MLSD": {500, 501, 503, 504, 530, 550, 553},
	"MLST": {500, 501, 503, 504, 530, 550, 553},
}

// seqRefusalAllowed reports whether r, a 4xx/5xx reply to verb, is a code
// the verb's reply row allows (421 everywhere; any 4xy for the RFC 3659
// commands, whose §4.2, §3.2 and §7.2.1 allow "Various 4xy replies").
func seqRefusalAllowed(verb string, r ftp.Reply) bool {
	switch verb {
	case "SIZE", "MDTM", "MLSD", "MLST":
		if r.Class() == 4 {
			return true
		}
	}
	row := append(append([]int{421}, replyAllowed[verb]...), seqPreLoginRows[verb]...)
	return r.Is(row...)
}
