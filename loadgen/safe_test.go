package loadgen

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestTermSafe(t *testing.T) {
	for in, want := range map[string]string{
		"220 ready":                 "220 ready",
		"220 héllo wörld ✓":         "220 héllo wörld ✓",
		"\x1b[2J\x1b[31mred":        `\x1b[2J\x1b[31mred`,
		"\x1b]0;pwned\x07title":     `\x1b]0;pwned\x07title`,
		"csi \u009b31m, nel \u0085": `csi \u009b31m, nel \u0085`,
		"del \x7f tab\tcr\rlf\n":    `del \x7f tab\x09cr\x0dlf\x0a`,
		"bad \xff\xfe utf-8":        `bad \xff\xfe utf-8`,
		"name\u202Etxt.exe":         `name\u202etxt.exe`,
		"\xe2\x82":                  `\xe2\x82`, // a truncated rune
		"":                          "",
	} {
		got := TermSafe(in)
		if got != want {
			t.Errorf("TermSafe(%q) = %q, want %q", in, got, want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("TermSafe(%q) = %q: not UTF-8", in, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { TermSafe("226 Transfer complete, héllo") }); n != 0 {
		t.Errorf("clean text: %v allocations, want 0", n)
	}
}

func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		"ftpload churn --target ftp://u:s3cret@127.0.0.1:21 --json x.json": "ftpload churn --target ftp://u:****@127.0.0.1:21 --json x.json",
		"--target=ftp://u:p@ss:w@127.0.0.1/dir":                            "--target=ftp://u:****@127.0.0.1/dir",
		"ftp://anon@127.0.0.1:21 and ftp://127.0.0.1":                      "ftp://anon@127.0.0.1:21 and ftp://127.0.0.1",
		"a ftp://a:1@h b ftp://b:2@h":                                      "a ftp://a:****@h b ftp://b:****@h",
		`"ftp://u:x@h"`:                                                    `"ftp://u:****@h"`,
		"no url here: 127.0.0.1:21":                                        "no url here: 127.0.0.1:21",
	} {
		if got := RedactURLs(in); got != want {
			t.Errorf("RedactURLs(%q) = %q, want %q", in, got, want)
		}
	}
}

// hostile is what a server can put in a banner or a reply: terminal
// escape sequences (clear screen, set title, OSC 8 link), C1 controls,
// bytes that are not UTF-8 and markup.
const hostile = "\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://evil/\x1b\\link\u009b31m <b>bold</b> \xff\xfe end"

func hostileReport(t *testing.T) *Report {
	t.Helper()
	m := NewMetrics(time.Time{})
	t0 := time.Unix(1000, 0)
	m.Add(&Result{Op: "list", Start: t0, Intended: t0, End: t0.Add(time.Millisecond)})
	m.Add(&Result{Op: "list", Start: t0, Intended: t0, End: t0.Add(time.Millisecond), Class: ClassReply5xx, FailedPhase: PhaseFirstByte,
		Code: 550, Reply: "550 " + hostile, Err: "LIST: unexpected reply 550 " + hostile})
	m.Close()
	rep := m.Report(Settings{Scenario: Churn, Target: "127.0.0.1:21", User: "u", Banner: "220 " + hostile,
		Command: "ftpload churn --target ftp://u:s3cretpw@127.0.0.1:21", Model: "closed", Sessions: 1})
	rep.Exhaust = &ExhaustSummary{FailureMode: ModeReply4xx, FailureReply: "421 " + hostile, RecoveryLast: "425 " + hostile, Banner: "220 " + hostile}
	return roundTrip(t, rep)
}

// Nothing a server sends reaches a terminal as a control sequence.
func TestTextReportEscapesServerText(t *testing.T) {
	var b bytes.Buffer
	if err := NewTextReporter(hostileReport(t))(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if i := strings.IndexFunc(out, func(r rune) bool { return r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r < 0xa0 }); i >= 0 || !utf8.ValidString(out) {
		t.Errorf("text report passes control characters or bad UTF-8 through (at %d):\n%q", i, out)
	}
	if !strings.Contains(out, `\x1b]0;pwned\x07`) {
		t.Errorf("the banner should be shown, escaped:\n%s", out)
	}
}
