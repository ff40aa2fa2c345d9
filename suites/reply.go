package suites

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/ftp"
	. "github.com/ftpharness/ftpharness/suites/framework"
	. "github.com/ftpharness/ftpharness/suites/matchers"
)

// replyAllowed is RFC 959 §5.4's command-reply table (plus RFC 2389 FEAT,
// RFC 3659 SIZE/MDTM and Appendix II's CDUP = CWD codes). 421 is allowed
// everywhere. Transfer commands list their completion codes separately.
var replyAllowed = map[string][]int{
	"GREETING": {120, 220},
	"USER":     {230, 530, 500, 501, 331, 332},
	"PASS":     {230, 202, 530, 500, 501, 503, 332},
	"CWD":      {250, 500, 501, 502, 530, 550},
	"CDUP":     {200, 250, 500, 501, 502, 530, 550},
	"QUIT":     {221, 500},
	"PASV":     {227, 500, 501, 502, 530},
	"TYPE":     {200, 500, 501, 504, 530},
	"MODE":     {200, 500, 501, 504, 530},
	"STRU":     {200, 500, 501, 504, 530},
	"ALLO":     {200, 202, 500, 501, 504, 530},
	"REST":     {350, 500, 501, 502, 530},
	"RNFR":     {450, 550, 500, 501, 502, 530, 350},
	"RNTO":     {250, 532, 553, 500, 501, 502, 503, 530},
	"ABOR":     {225, 226, 500, 501, 502},
	"DELE":     {250, 450, 550, 500, 501, 502, 530},
	"RMD":      {250, 500, 501, 502, 530, 550},
	"MKD":      {257, 500, 501, 502, 530, 550},
	"PWD":      {257, 500, 501, 502, 550},
	"SYST":     {215, 500, 501, 502},
	"STAT":     {211, 212, 213, 450, 500, 501, 502, 530},
	"HELP":     {211, 214, 500, 501, 502},
	"NOOP":     {200, 500},
	"FEAT":     {211, 500, 501, 502},
	"SIZE":     {213, 550, 500, 501, 502, 530},
	"MDTM":     {213, 550, 500, 501, 502, 530},
	"XYZZ":     {500, 502}, // RFC 2389 §3.2: "500 or 502 ... the normal "unrecognized command" reply"
	// transfer commands: first reply (error or preliminary)
	"RETR": {125, 150, 110, 450, 550, 500, 501, 530, 425},
	"STOR": {125, 150, 110, 450, 452, 532, 553, 500, 501, 530, 425},
	"LIST": {125, 150, 450, 500, 501, 502, 530, 425},
	"NLST": {125, 150, 450, 500, 501, 502, 530, 425},
}

// replyAny4xy are the commands whose RFC allows any 4xy error besides the
// listed codes: SIZE and MDTM (RFC 3659 §4.2, §3.2: "Various 4xy replies are
// also possible in appropriate circumstances").
var replyAny4xy = map[string]bool{"SIZE": true, "MDTM": true}

// replyCompletion are the codes allowed after a 1xx on a transfer command.
var replyCompletion = []int{226, 250, 425, 426, 451, 551, 552}

var _ = Describe("REPLY", Label("reply"), func() {

	// RFC 959 §4.2: "A reply is defined to contain the 3-digit code,
	// followed by Space <SP>, followed by one line of text ... and
	// terminated by the Telnet end-of-line code" (multi-line: "ddd-");
	// RFC 1123 §4.1.2.11: "A Server-FTP MUST send only correctly formatted
	// replies"; there are no spontaneous replies (except 421 before close).
	Check("REPLY-001", func(ctx SpecContext) {
		s := seqDial(ctx)
		var bad []string
		step := func(line string) {
			r, err := s.TryCmd(ctx, line)
			if err != nil {
				var pe *ftp.ProtocolError
				if errors.As(err, &pe) {
					bad = append(bad, fmt.Sprintf("%s: reply could not be framed: %v", line, err))
				} else {
					bad = append(bad, fmt.Sprintf("%s: no reply: %v", line, err))
				}
				FailNow(fmt.Sprintf("session lost: %v", bad))
			}
			if r.Preliminary() {
				s.Wait(ctx, 3*time.Second)
			}
		}
		if extra, _ := s.Quiet(ctx, 300*time.Millisecond); extra != nil {
			bad = append(bad, fmt.Sprintf("unsolicited reply right after the greeting: %q", extra.Raw))
		}
		for _, l := range []string{"FEAT", "HELP", "STAT", "SYST", "NOOP", "XYZZ", "USER " + Config().User, "PASS " + Config().Password,
			"PWD", "SYST", "FEAT", "HELP", "STAT", "TYPE I", "NOOP", "XYZZ", "CWD ftph-nosuch-dir", "SIZE ftph-nosuch", "MDTM ftph-nosuch",
			"DELE ftph-nosuch", "RNTO ftph-nosuch", "MODE Q", "ALLO 1"} {
			step(l)
		}
		d := Name(ctx, "reply001")
		step("MKD " + d)
		step("STAT " + Scratch(ctx))
		res, _ := s.Xfer(ctx, false, "LIST "+Scratch(ctx), nil)
		var pe *ftp.ProtocolError
		if errors.As(res.Err, &pe) {
			bad = append(bad, fmt.Sprintf("LIST: %v", res.Err))
		}
		step("RMD " + d)
		if extra, _ := s.Quiet(ctx, 500*time.Millisecond); extra != nil {
			bad = append(bad, fmt.Sprintf("unsolicited reply with no command pending: %q", extra.Raw))
		}
		for _, r := range s.Problems() {
			// the structure of multi-line replies is REPLY-002's rule
			if own := slices.DeleteFunc(slices.Clone(r.Problems), func(p string) bool { return FramingCheck(p) != "REPLY-001" }); len(own) > 0 {
				bad = append(bad, fmt.Sprintf("dedicated exchange: %v raw %q", own, r.Raw))
			}
		}
		// The replies every other check saw are graded too: each session
		// reports its malformed replies as evidence for REPLY-001 and the
		// run's verdict adds them (suites/report), whatever the order.
		if bad = replyDistinct(bad); len(bad) > 0 {
			Problem(fmt.Sprintf("%d malformed replies in the dedicated exchange (RFC 959 §4.2: each line `ddd<SP>text` or `ddd-text`, first digit 1-5, ending in CRLF; RFC 1123 §4.1.2.11: only correctly formatted replies). Fix: end every reply line with CR LF and start every reply with its code: %s",
				len(bad), strings.Join(bad, "; ")))
		}
	})

	// RFC 959 §4.2: "the first line will begin with the exact required reply
	// code, followed immediately by a Hyphen ... The last line will begin
	// with the same code, followed immediately by Space <SP> ... If an
	// intermediary line begins with a 3-digit number, the Server must pad
	// the front to avoid confusion."
	Check("REPLY-002", func(ctx SpecContext) {
		s := seqDial(ctx)
		var bad []string
		var seen []string
		grade := func(what string, r ftp.Reply) {
			if strings.Count(string(r.Raw), "\n") > 1 {
				seen = append(seen, what)
			}
			if p := MultilineProblems(r); len(p) > 0 {
				bad = append(bad, fmt.Sprintf("%s: %s; raw %q", what, strings.Join(p, "; "), r.Raw))
			}
			if extra, err := s.Quiet(ctx, 100*time.Millisecond); extra != nil || err != nil {
				bad = append(bad, fmt.Sprintf("%s: an extra reply followed (lines not continued as one reply?): %s", what, seqDescribePtr(extra)))
			}
		}
		grade("greeting", s.Greeting())
		grade("FEAT before login", s.Do(ctx, "FEAT"))
		grade("HELP before login", s.Do(ctx, "HELP"))
		c := Config()
		grade("USER", s.Do(ctx, "USER", c.User))
		grade("PASS", s.Do(ctx, "PASS", c.Password))
		s.SecureData(ctx) // the Put below: protected as after any login
		grade("FEAT", s.Do(ctx, "FEAT"))
		grade("HELP", s.Do(ctx, "HELP"))
		grade("STAT", s.Do(ctx, "STAT"))
		grade("STAT <dir>", s.Do(ctx, "STAT", Scratch(ctx)))
		f := Name(ctx, "reply002")
		s.Put(ctx, f, []byte("x\n"))
		grade("STAT <file>", s.Do(ctx, "STAT", f))
		if Feat(ctx).Has("MLST") {
			grade("MLST <file>", s.Do(ctx, "MLST", f))
		}
		Observe("multi-line replies seen", strings.Join(seen, ", "))
		Expect(bad).To(BeEmpty())
	})

	// RFC 959 §5.4: "the command-reply sequence ... must be strictly
	// adhered to; a server may substitute text in the replies, but the
	// meaning and action implied by the code numbers and by the specific
	// command reply sequence cannot be altered." RFC 1123 §4.1.2.11: a
	// server SHOULD use the RFC 959 codes.
	Check("REPLY-003", func(ctx SpecContext) {
		s := seqDial(ctx)
		var bad []string
		judge := func(key, line string, r ftp.Reply) {
			ok := append([]int{421}, replyAllowed[key]...)
			if !r.Is(ok...) && !(replyAny4xy[key] && r.Class() == 4) {
				bad = append(bad, fmt.Sprintf("%s: %q (RFC 959 §5.4 allows %v)", line, r.Raw, replyAllowed[key]))
			}
		}
		do := func(line string) ftp.Reply {
			verb, _, _ := strings.Cut(line, " ")
			r := s.Do(ctx, line)
			judge(strings.ToUpper(verb), line, r)
			if r.Preliminary() {
				s.Wait(ctx, 3*time.Second)
			}
			return r
		}
		xfer := func(line string, up []byte) {
			verb, _, _ := strings.Cut(line, " ")
			res, _ := s.Xfer(ctx, false, line, up)
			if len(res.Replies) == 0 {
				bad = append(bad, fmt.Sprintf("%s: no reply (%v)", line, res.Err))
				return
			}
			judge(verb, line, res.Replies[0])
			if res.Replies[0].Preliminary() {
				if len(res.Replies) < 2 {
					bad = append(bad, fmt.Sprintf("%s: a 1xx reply with no completion reply (%v)", line, res.Err))
				} else if !res.Replies[1].Is(append([]int{421}, replyCompletion...)...) {
					bad = append(bad, fmt.Sprintf("%s: completion %q after %q (RFC 959 §5.4 allows %v)", line, res.Replies[1].Raw, res.Replies[0].Raw, replyCompletion))
				}
			}
		}
		judge("GREETING", "greeting", s.Greeting())
		for _, l := range []string{"NOOP", "SYST", "HELP", "FEAT", "USER " + Config().User, "PASS " + Config().Password,
			"PWD", "SYST", "NOOP", "TYPE I", "TYPE A", "MODE S", "STRU F", "ALLO 10", "STAT", "HELP", "FEAT", "XYZZ",
			"CWD " + Scratch(ctx), "CDUP", "CWD ftph-nosuch-dir", "DELE ftph-nosuch", "RNFR ftph-nosuch", "RNTO ftph-nosuch",
			"SIZE ftph-nosuch", "MDTM ftph-nosuch", "ABOR"} {
			do(l)
		}
		f := Name(ctx, "reply003")
		d := Name(ctx, "reply003-dir")
		do("MKD " + d)
		do("TYPE I")
		xfer("STOR "+f, []byte("reply003\n"))
		do("SIZE " + f)
		do("MDTM " + f)
		xfer("RETR "+f, nil)
		xfer("RETR "+f+"-nosuch", nil)
		xfer("LIST "+Scratch(ctx), nil)
		xfer("NLST "+Scratch(ctx), nil)
		do("STAT " + f)
		do("RNFR " + f)
		do("RNTO " + f + "-renamed")
		do("DELE " + f + "-renamed")
		do("RMD " + d)
		do("REST 0")
		do("QUIT")
		Expect(bad).To(BeEmpty(), "reply codes outside the set RFC 959 §5.4 (or the extension RFC) allows for the command")
	})

	// proftpd/proftpd#1977, hfiref0x/LightFTP#38: arguments carrying CR or
	// LF that the server echoes into its reply must not break the reply
	// framing (RFC 959 §4.2: each reply line ends in CRLF; RFC 854: a CR is
	// followed by LF or NUL).
	Check("REPLY-004", func(ctx SpecContext) {
		s := seqLogin(ctx)
		dir := Scratch(ctx)
		probes := []string{
			"CWD " + dir + "/ftph-cr\rname",
			"SIZE " + dir + "/ftph-cr\rname",
			"DELE " + dir + "/ftph-lf\nname",
			"XYZZ ftph-cr\rname",
			"CWD " + dir + "/ftph-crlf\r\nXYZZ",
		}
		var bad []string
		for _, p := range probes {
			octx, cancel := Ctx(ctx)
			err := s.WriteRaw(octx, []byte(p+"\r\nNOOP\r\n"))
			cancel()
			Expect(err).NotTo(HaveOccurred())
			var got []string
			var replies []ftp.Reply
			for i := 0; i < 5; i++ {
				r, err := s.TryNext(ctx, Config().Timeout)
				if err != nil {
					var pe *ftp.ProtocolError
					if errors.As(err, &pe) {
						bad = append(bad, fmt.Sprintf("%q: reply framing broken: %v", p, err))
					} else {
						bad = append(bad, fmt.Sprintf("%q: no reply: %v", p, err))
					}
					s = seqLogin(ctx)
					break
				}
				got = append(got, r.String())
				replies = append(replies, r)
				if replyBareCR(r.Raw) {
					bad = append(bad, fmt.Sprintf("%q: the reply echoes a bare CR (not followed by LF): raw %q", p, r.Raw))
				}
				if r.Code == 200 {
					break
				}
			}
			for _, r := range replyEchoBroken(replies) {
				bad = append(bad, fmt.Sprintf("%q: malformed reply %v raw %q", p, r.Problems, r.Raw))
			}
			Observe(fmt.Sprintf("%q then NOOP", p), strings.Join(got, " / "))
		}
		Expect(bad).To(BeEmpty())
	})

	// RFC 959 Appendix II: "upon successful completion of an MKD command,
	// the server should return a line of the form: 257<space>"<directory-
	// name>"<space><commentary>" ... "embedded double-quotes should be
	// escaped by double-quotes (the "quote-doubling" convention)"; "the
	// successful PWD command uses the 257 reply code as well" (SHOULD).
	Check("REPLY-005", func(ctx SpecContext) {
		s := seqLogin(ctx)
		home := s.Do(ctx, "PWD")
		Expect(home).To(HaveCode(257))
		homePath, ok := replyParse257(home.Text())
		Expect(ok).To(BeTrue(), "PWD: 257 must carry the quoted directory: %q", home.Raw)
		dir := Name(ctx, `q"uote`)
		base := path.Base(dir)
		m := s.Do(ctx, "MKD", dir)
		Expect(m).To(HaveCode(257), "MKD %s", dir)
		DeferCleanup(func(ctx SpecContext) {
			s.TryCmd(ctx, "CWD "+homePath)
			s.TryCmd(ctx, "RMD "+dir)
		})
		var bad []string
		if p, ok := replyParse257(m.Text()); !ok || !strings.HasSuffix(p, base) {
			bad = append(bad, fmt.Sprintf("MKD %s: 257 should be `\"<path ending in %s with the quote doubled>\" ...`; parsed %q from %q", dir, strings.ReplaceAll(base, `"`, `""`), p, m.Raw))
		}
		Expect(s.Do(ctx, "CWD", dir)).To(HaveCode(250), "CWD into the new directory")
		pw := s.Do(ctx, "PWD")
		Expect(pw).To(HaveCode(257))
		if p, ok := replyParse257(pw.Text()); !ok || !strings.HasSuffix(p, "/"+base) {
			bad = append(bad, fmt.Sprintf("PWD in %s: 257 should quote the path with the embedded quote doubled; parsed %q from %q", dir, p, pw.Raw))
		}
		Expect(bad).To(BeEmpty())
	})

	// RFC 959 §4.2: "every command must generate at least one reply,
	// although there may be more than one; in the latter case, the multiple
	// replies must be easily distinguished" — a 1yz preliminary followed by
	// the completion (§4.2: "the server may send ... a positive preliminary
	// reply"), never a second completion reply, which §5.4's command-reply
	// sequences do not allow ("the specific command reply sequence cannot
	// be altered"). Malformed commands are where servers were seen
	// answering twice; every session of the run is watched too (the
	// verdict adds what the other checks saw).
	Check("REPLY-006", Slow, func(ctx SpecContext) {
		s := seqLogin(ctx)
		var bad []string
		for _, p := range replyProvocations {
			shown := replyShort(p)
			got, violation, lost := replyProvoke(ctx, s, p)
			Observe(shown+" then NOOP", got)
			if violation != "" {
				bad = append(bad, shown+": "+violation)
			}
			if lost {
				s = seqLogin(ctx)
			}
		}
		for _, u := range s.Unsolicited() {
			bad = append(bad, u.String())
		}
		Expect(bad).To(BeEmpty(), "exactly one completion reply per command (RFC 959 §4.2, §5.4): each of these replies arrived after the command had its completion reply; fix the command parser so a rejected line is answered once")
	})
})

// replyProvocations are malformed command lines of the kind a server was
// seen answering twice: unknown verbs, odd and overlong arguments, a
// Telnet IP inside the line and 8-bit bytes. Lines a server may silently
// ignore (blank ones) or answer with Telnet negotiation (SEC-007's
// business) are left out: they would not get one reply to judge.
var replyProvocations = []string{
	"XYZZ",
	"XYZZ " + strings.Repeat("A", 600),
	"TYPE Z",
	"MODE Q",
	"PORT 1,2,3",
	"SIZE",
	"XY\xff\xf4ZZ",
	"NOOP\xff\xf4",
	"XYZZ \xe9\xe8\x00",
}

// replyShort quotes a provocation line, cut to 40 bytes.
func replyShort(line string) string {
	if len(line) > 40 {
		return fmt.Sprintf("%q… (%d bytes)", line[:40], len(line))
	}
	return fmt.Sprintf("%q", line)
}

// replyProvoke sends line, reads its reply and waits a moment for an extra
// one (the session's reply pairing records it with the line), then sends
// NOOP. It returns what came back, a violation when an extra reply of the
// line came so late that it took NOOP's place (NOOP's own reply followed),
// and whether the session is lost (no reply is not this rule's business).
func replyProvoke(ctx SpecContext, s *Session, line string) (got, violation string, lost bool) {
	octx, cancel := Ctx(ctx)
	defer cancel()
	if err := s.WriteRaw(octx, []byte(line+"\r\n")); err != nil {
		return fmt.Sprintf("send failed: %v", err), "", true
	}
	var seen []string
	for i := 0; i < 3; i++ {
		r, err := s.ReadReply(octx)
		if err != nil {
			return fmt.Sprintf("no reply to the line (%v); new session for the rest", err), "", true
		}
		seen = append(seen, r.String())
		if !r.Preliminary() {
			break
		}
	}
	for i := 0; i < 3; i++ {
		extra, _ := s.Quiet(ctx, replyExtraWait)
		if extra == nil {
			break
		}
		seen = append(seen, "then unsolicited "+extra.String())
	}
	n, err := s.TryCmd(ctx, "NOOP")
	if err != nil {
		return fmt.Sprintf("%s / NOOP: no reply (%v); new session for the rest", strings.Join(seen, " | "), err), "", true
	}
	got = fmt.Sprintf("%s / NOOP: %s", strings.Join(seen, " | "), n)
	if n.Is(200, 421) {
		return got, "", false
	}
	// NOOP got something else: if NOOP's own reply follows, that was a
	// late extra reply of the line.
	own, _ := s.Quiet(ctx, time.Second)
	if own == nil {
		return got, "", false
	}
	return got + " then " + own.String(), fmt.Sprintf("answered %s and, more than %v later, again %q, which the client takes for NOOP's reply (NOOP's own %q followed)",
		strings.Join(seen, " | "), replyExtraWait, n.Raw, own.Raw), false
}

// replyExtraWait is how long REPLY-006 waits for an extra reply after each
// provocation's reply.
const replyExtraWait = 300 * time.Millisecond

// replyParse257 extracts the quoted pathname of a 257 reply's text (RFC 959
// Appendix II): it starts at the first quote, "" stands for one quote, and a
// single quote ends it.
func replyParse257(text string) (string, bool) {
	i := strings.IndexByte(text, '"')
	if i < 0 {
		return "", false
	}
	var b strings.Builder
	for j := i + 1; j < len(text); j++ {
		if text[j] != '"' {
			b.WriteByte(text[j])
			continue
		}
		if j+1 < len(text) && text[j+1] == '"' {
			b.WriteByte('"')
			j++
			continue
		}
		return b.String(), true
	}
	return b.String(), false
}

// replyEchoBroken returns the replies to a REPLY-004 probe whose framing
// the echoed bytes broke: the problems the control reply (NOOP's 200, the
// last one when it came) also has are how the server frames every reply —
// REPLY-001's business, not the echo's — and are left out.
func replyEchoBroken(replies []ftp.Reply) []ftp.Reply {
	var control []string
	if n := len(replies); n > 0 && replies[n-1].Code == 200 {
		control = replies[n-1].Problems
		replies = replies[:n-1]
	}
	var out []ftp.Reply
	for _, r := range replies {
		var own []string
		for _, p := range r.Problems {
			if !slices.Contains(control, p) {
				own = append(own, p)
			}
		}
		if len(own) > 0 {
			r.Problems = own
			out = append(out, r)
		}
	}
	return out
}

// replyDistinct drops repeated entries, keeping the first of each.
func replyDistinct(list []string) []string {
	seen := map[string]bool{}
	return slices.DeleteFunc(list, func(x string) bool {
		dup := seen[x]
		seen[x] = true
		return dup
	})
}

// replyBareCR reports a CR not followed by LF in raw.
func replyBareCR(raw []byte) bool {
	for i, c := range raw {
		if c == '\r' && (i+1 >= len(raw) || raw[i+1] != '\n') {
			return true
		}
	}
	return false
}
