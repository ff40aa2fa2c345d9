package suites

import (
	"bytes"
	"fmt"
	"regexp"
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

var _ = Describe("FEAT", Label("feat"), func() {

	// RFC 2389 §3.2: "feature-listing = "211-" *TCHAR CRLF 1*( SP feature
	// CRLF ) "211 End" CRLF"; "Each line in the feature-listing begins with
	// a single space"; "no-features = "211" SP *TCHAR CRLF"; a server that
	// does not support FEAT answers 500 or 502.
	Check("FEAT-001", func(ctx SpecContext) {
		s := seqLogin(ctx)
		r := s.Do(ctx, "FEAT")
		if r.Is(500, 502) {
			Observe("FEAT not supported", r.String())
			return
		}
		Expect(r).To(HaveCode(211))
		raw := string(r.Raw)
		Expect(strings.HasSuffix(raw, "\r\n")).To(BeTrue(), "FEAT reply must end in CRLF: %q", r.Raw)
		lines := strings.SplitAfter(raw, "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if len(lines) == 1 {
			Expect(lines[0]).To(HavePrefix("211 "), "single-line FEAT (no features): %q", r.Raw)
			return
		}
		var bad []string
		for i, l := range lines {
			if !strings.HasSuffix(l, "\r\n") {
				bad = append(bad, fmt.Sprintf("line %d %q does not end in CRLF", i+1, l))
			}
			t := strings.TrimRight(l, "\r\n")
			switch {
			case i == 0:
				if !strings.HasPrefix(t, "211-") {
					bad = append(bad, fmt.Sprintf("first line %q is not 211-", t))
				}
			case i == len(lines)-1:
				if !regexp.MustCompile(`(?i)^211 End`).MatchString(t) {
					bad = append(bad, fmt.Sprintf("last line %q is not \"211 End\"", t))
				}
			default:
				if len(t) < 2 || t[0] != ' ' || t[1] == ' ' {
					bad = append(bad, fmt.Sprintf("feature line %q does not begin with exactly one space followed by the feature", t))
				}
			}
		}
		Expect(bad).To(BeEmpty(), "FEAT reply %q", r.Raw)
	})

	// RFC 2389 §3.2: "The FEAT command ... takes no arguments"; "501 Syntax
	// error in parameters or arguments" (RFC 959 §4.2.1).
	Check("FEAT-002", func(ctx SpecContext) {
		s := seqLogin(ctx)
		if r := s.Do(ctx, "FEAT"); r.Is(500, 502) {
			Skip("FEAT is not supported (" + r.String() + ")")
		}
		Expect(s.Do(ctx, "FEAT", "x")).To(HaveCode(501), "FEAT with an argument")
	})

	// RFC 2389 §3.2: "The FEAT command consists solely of the word "FEAT".
	// ... the server-PI ... MUST include in its response a list of all
	// extended commands it supports"; RFC 3659 §3.3/§4.3/§5.4/§7.8 (MDTM,
	// SIZE, REST STREAM — "MUST NOT be listed unless" supported —, MLST),
	// RFC 4217 §6 (AUTH TLS), RFC 7151 §3.4 (HOST: "a server-FTP process that
	// supports the HOST command MUST include a line containing the single
	// word "HOST""). Not probed: EPSV (no FEAT label is defined for it;
	// EPSV-009 warns) and UTF8 (OPTS UTF8 ON is not the test of it).
	Check("FEAT-003", func(ctx SpecContext) {
		s := seqLogin(ctx)
		fr := s.Do(ctx, "FEAT")
		feats := ParseFeat(fr)
		Observe("FEAT", fr.String())
		f := Name(ctx, "feat003")
		data := fixtures.Bytes(3, 2000)
		s.Put(ctx, f, data)
		works := map[string]string{}
		probe := func(feature, line string, r ftp.Reply, ok bool) {
			if ok {
				works[feature] = fmt.Sprintf("%s -> %s", line, r.String())
			}
		}
		s.Do(ctx, "TYPE", "I")
		r := s.Do(ctx, "SIZE", f)
		probe("SIZE", "SIZE", r, r.Code == 213)
		r = s.Do(ctx, "MDTM", f)
		probe("MDTM", "MDTM", r, r.Code == 213)
		r = s.Do(ctx, "MLST", f)
		probe("MLST", "MLST", r, r.Code == 250)
		if res, _ := s.Xfer(ctx, false, "MLSD "+Scratch(ctx), nil); res.OK() {
			works["MLST"] = "MLSD -> " + res.Final().String() + " (MLSD is announced by the MLST feature, RFC 3659 §7.8)"
		}

		// REST STREAM: REST 1 then RETR returns the file from byte 1.
		restWorks := false
		nc := s.Data(ctx, false)
		rr := s.Do(ctx, "REST", "1")
		var got bytes.Buffer
		if rr.Code == 350 {
			res := s.Transfer(ctx, nc, "RETR "+f, nil, &got)
			restWorks = res.OK() && bytes.Equal(got.Bytes(), data[1:])
			if restWorks {
				works["REST STREAM"] = "REST 1 -> 350, RETR -> data from byte 1"
			}
			Observe("REST 1 + RETR", fmt.Sprintf("%s; %d bytes", res, got.Len()))
		} else {
			nc.Close()
			Observe("REST 1", rr.String())
		}

		h := seqDial(ctx)
		hr, err := h.TryCmd(ctx, "HOST "+h.RemoteIP().String())
		if err == nil {
			probe("HOST", "HOST", hr, hr.Code == 220)
		}
		a := seqDial(ctx)
		ar, err := a.TryCmd(ctx, "AUTH TLS")
		if err == nil {
			probe("AUTH TLS", "AUTH TLS", ar, ar.Code == 234)
		}
		a.Close()

		var bad []string
		for feature, how := range works {
			if !feats.Has(feature) {
				bad = append(bad, fmt.Sprintf("%s works (%s) but FEAT does not list it", feature, how))
			}
		}
		if feats.Has("REST STREAM") && !restWorks {
			bad = append(bad, fmt.Sprintf("FEAT lists REST STREAM but REST 1 + RETR does not resume (REST -> %q)", rr.Raw))
		}
		Expect(bad).To(BeEmpty(), "FEAT reply %q; RFC 2389 §3.2: the FEAT response MUST list every extension the server supports; fix: list the working extensions (and only those) in FEAT", fr.Raw)
	})

	// RFC 2389 §4: "opts-bad = "451" SP response-message CRLF / "501" SP
	// response-message CRLF" and "Where no OPTS behavior is defined for a
	// particular command there are no options available for that command":
	// OPTS naming no command is refused with 501 (or 451). OPTS UTF8 ON has
	// no defined reply to test, so its reply is only recorded.
	Check("FEAT-004", func(ctx SpecContext) {
		s := seqLogin(ctx)
		fr := s.Do(ctx, "FEAT")
		if fr.Is(500, 502) {
			Skip("FEAT is not supported (" + fr.String() + "): OPTS is defined alongside it")
		}
		u := s.Do(ctx, "OPTS", "UTF8", "ON")
		Observe(fmt.Sprintf("OPTS UTF8 ON (UTF8 in FEAT: %v)", ParseFeat(fr).Has("UTF8")), u.String())
		b := s.Do(ctx, "OPTS", "BOGUS")
		Expect(b).To(HaveCode(501, 451), "sent `OPTS BOGUS` (no such command), got %q; RFC 2389 §4 answers an OPTS whose command-name is not recognised with opts-bad: 501 (permanent) or 451 (temporary); fix: answer 501", b.Raw)
	})

	// RFC 3659 §4.1: "size-response = "213" SP 1*DIGIT CRLF" — the exact
	// number of octets the transfer would send in the current TYPE; §4.2:
	// for a name that does not exist "a 550 reply should be sent ... Various
	// 4xy replies are also possible in appropriate circumstances."
	Check("FEAT-005", func(ctx SpecContext) {
		s := seqLogin(ctx)
		f := Name(ctx, "feat005")
		data := fixtures.Bytes(5, 12345)
		s.Put(ctx, f, data)
		Expect(s.Do(ctx, "TYPE", "I")).To(HaveCode(200))
		r := s.Do(ctx, "SIZE", f)
		if r.Is(500, 502) {
			Skip("SIZE is not implemented (" + r.String() + "); RFC 3659 makes it optional")
		}
		Expect(r).To(HaveCode(213))
		Expect(string(r.Raw)).To(MatchRegexp(`^213 \d+\r\n$`), "SIZE reply must be exactly \"213 <digits>\" on one line")
		Expect(strings.TrimSpace(r.Text())).To(Equal(strconv.Itoa(len(data))), "SIZE of a %d-byte file in TYPE I", len(data))
		m := s.Do(ctx, "SIZE", f+"-missing")
		Expect(m.Code == 550 || m.Class() == 4).To(BeTrue(), "sent SIZE %s-missing (no such file), got %q; RFC 3659 §4.2 wants 550 (or a 4xy); fix: answer 550", f, m.Raw)
	})

	// RFC 3659 §3.1: "mdtm-response = "213" SP time-val CRLF / error-response"
	// and "when the 213 response is issued ... the format MUST be exactly as
	// specified"; §2.3 time-val "14DIGIT [ "." 1*DIGIT ]" in UTC. For an
	// object that cannot be retrieved (a directory) §3.1 lets the server
	// "generate an error-response, or ... a positive response carrying a
	// time-val with an unspecified value": that reply is only recorded.
	Check("FEAT-006", func(ctx SpecContext) {
		s := seqLogin(ctx)
		f := Name(ctx, "feat006")
		before := time.Now().UTC()
		s.Put(ctx, f, []byte("mdtm\n"))
		r := s.Do(ctx, "MDTM", f)
		if r.Is(500, 502) {
			Skip("MDTM is not implemented (" + r.String() + "); RFC 3659 makes it optional")
		}
		Expect(r).To(HaveCode(213))
		m := regexp.MustCompile(`^213 (\d{14})(\.\d+)?\r\n$`).FindStringSubmatch(string(r.Raw))
		Expect(m).NotTo(BeNil(), "MDTM reply must be exactly \"213 YYYYMMDDHHMMSS[.sss]\": %q", r.Raw)
		t, err := time.Parse("20060102150405", m[1])
		Expect(err).NotTo(HaveOccurred(), "MDTM time %q is not a valid date", m[1])
		Expect(t).To(BeTemporally("~", before, 20*time.Minute), "MDTM of a file written just now (%s UTC) must be UTC: %q", before.Format(time.RFC3339), r.Raw)
		Observe("MDTM of a directory", s.Do(ctx, "MDTM", Scratch(ctx)).String())
	})
})
