package ftp

import (
	"bytes"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"
)

const followUp = "200 next\r\n"

type frameCase struct {
	name string
	in   string // the reply as sent
	// eof closes the connection right after in; otherwise followUp is sent
	// and must be read as the next reply (proving framing consumed exactly
	// in), unless kind is set, in which case the server just holds.
	eof      bool
	code     int
	lines    []string
	problems []string // substrings; nil means well formed
	kind     string   // framing failure: *ProtocolError of this Kind in both modes
}

var frameCases = []frameCase{
	{name: "single", in: "220 Service ready\r\n", code: 220, lines: []string{"220 Service ready"}},
	{name: "single-empty-text", in: "200 \r\n", code: 200, lines: []string{"200 "}},
	{name: "multi-plain", in: "214-Commands:\r\n USER PASS QUIT\r\nHELP\r\n214 Done\r\n", code: 214,
		lines: []string{"214-Commands:", " USER PASS QUIT", "HELP", "214 Done"}},
	{name: "multi-padded-digits", in: "211-Status:\r\n 229 padded is fine\r\n  123 also\r\n211 End\r\n", code: 211,
		lines: []string{"211-Status:", " 229 padded is fine", "  123 also", "211 End"}},
	{name: "multi-same-code-hyphen-pure-ftpd", in: "220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n" +
		"220-You are user number 1 of 50 allowed.\r\n" +
		"220-Local time is now 12:00. Server port: 21.\r\n" +
		"220 You will be disconnected after 15 minutes of inactivity.\r\n", code: 220,
		lines: []string{"220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------",
			"220-You are user number 1 of 50 allowed.",
			"220-Local time is now 12:00. Server port: 21.",
			"220 You will be disconnected after 15 minutes of inactivity."}},
	{name: "multi-unpadded-digits", in: "211-Status:\r\n1234 bytes in 2 files\r\n211 End\r\n", code: 211,
		lines:    []string{"211-Status:", "1234 bytes in 2 files", "211 End"},
		problems: []string{"intermediate line begins with three digits"}},
	{name: "multi-unpadded-other-code-hyphen", in: "211-Status:\r\n150-odd\r\n211 End\r\n", code: 211,
		lines:    []string{"211-Status:", "150-odd", "211 End"},
		problems: []string{"intermediate line begins with three digits"}},
	{name: "multi-mismatched-end", in: "211-Status:\r\n x\r\n200 End\r\n", code: 211,
		lines:    []string{"211-Status:", " x", "200 End"},
		problems: []string{"multi-line reply 211- ended with code 200"}},
	{name: "multi-end-without-space", in: "211-Status:\r\n211\r\n", code: 211,
		lines:    []string{"211-Status:", "211"},
		problems: []string{"last line has the code but no space"}},
	{name: "lf-only", in: "220 hi\n", code: 220, lines: []string{"220 hi"},
		problems: []string{"line ends in LF without CR"}},
	{name: "lf-only-one-line-of-multi", in: "211-a\r\n b\n211 c\r\n", code: 211, lines: []string{"211-a", " b", "211 c"},
		problems: []string{"line ends in LF without CR"}},
	{name: "lf-only-and-mismatch", in: "211-a\n200 c\n", code: 211, lines: []string{"211-a", "200 c"},
		problems: []string{"line ends in LF without CR", "ended with code 200"}},
	{name: "code-without-space", in: "220\r\n", code: 220, lines: []string{"220"},
		problems: []string{"code not followed by a space"}},
	{name: "first-digit-0", in: "020 hi\r\n", code: 20, lines: []string{"020 hi"},
		problems: []string{"first digit of code 020 is not 1-5"}},
	{name: "first-digit-9", in: "999 hi\r\n", code: 999, lines: []string{"999 hi"},
		problems: []string{"first digit of code 999 is not 1-5"}},
	{name: "line-exactly-max", in: "220 " + strings.Repeat("a", MaxLineLength-6) + "\r\n", code: 220,
		lines: []string{"220 " + strings.Repeat("a", MaxLineLength-6)}},

	{name: "bad-code-letter", in: "2x0 hi\r\n", kind: "bad-code"},
	{name: "bad-code-word", in: "hello\r\n", kind: "bad-code"},
	{name: "bad-code-glued-text", in: "220hi\r\n", kind: "bad-code"},
	{name: "bad-code-short", in: "22\r\n", kind: "bad-code"},
	{name: "bad-code-empty-line", in: "\r\n", kind: "bad-code"},
	{name: "eof-mid-line", in: "22", eof: true, kind: "eof-mid-reply"},
	{name: "eof-mid-multi", in: "211-Status:\r\n more\r\n", eof: true, kind: "eof-mid-reply"},
	{name: "eof-after-partial-last", in: "211-Status:\r\n211 En", eof: true, kind: "eof-mid-reply"},
	{name: "line-too-long", in: "220 " + strings.Repeat("a", 70<<10), kind: "line-too-long"},
	{name: "line-one-over-max", in: "220 " + strings.Repeat("a", MaxLineLength-5) + "\r\n", kind: "line-too-long"},
	{name: "reply-too-large", in: "220-big\r\n" + strings.Repeat(" "+strings.Repeat("x", 1021)+"\r\n", 1100), kind: "reply-too-large"},
}

// TestReplyFraming runs every case through a real Conn in strict and in
// lenient mode.
func TestReplyFraming(t *testing.T) {
	for _, tc := range frameCases {
		for _, strict := range []bool{true, false} {
			mode := "lenient"
			if strict {
				mode = "strict"
			}
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				addr := fakeServer(t, func(c net.Conn) {
					c.Write([]byte(tc.in))
					if tc.eof {
						return
					}
					if tc.kind == "" {
						c.Write([]byte(followUp))
					}
					hold(c)
				})
				ctx := ctxFor(t, 5*time.Second)
				c, err := Dial(ctx, addr, WithoutGreeting(), WithStrictReplies(strict))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				r, err := c.ReadReply(ctx)
				checkFrame(t, tc, strict, c, r, err)
				if tc.kind != "" {
					return
				}
				next, err := c.ReadReply(ctx)
				if err != nil || next.Code != 200 || string(next.Raw) != followUp {
					t.Fatalf("follow-up reply: %v %q (framing consumed the wrong bytes)", err, next.Raw)
				}
			})
		}
	}
}

func checkFrame(t *testing.T, tc frameCase, strict bool, c *Conn, r Reply, err error) {
	t.Helper()
	if tc.kind != "" {
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Fatalf("want *ProtocolError %s, got %v", tc.kind, err)
		}
		if pe.Kind != tc.kind {
			t.Fatalf("kind %q, want %q (%v)", pe.Kind, tc.kind, err)
		}
		// Raw holds every byte read for the reply: oversized input up to
		// the limit (plus at most one buffer), so a proxy forwards it all;
		// Error shows 200 bytes of it
		want := tc.in
		if len(pe.Raw) < len(want) && len(pe.Raw) > MaxLineLength {
			want = want[:len(pe.Raw)]
		}
		if len(pe.Raw) > MaxReplySize+MaxLineLength || len(err.Error()) > 600 {
			t.Fatalf("Raw %d bytes, error text %d bytes: unbounded", len(pe.Raw), len(err.Error()))
		}
		if string(pe.Raw) != want {
			t.Fatalf("Raw = %q (%d bytes), want %q (%d bytes)", truncate(pe.Raw, 80), len(pe.Raw), truncate([]byte(want), 80), len(want))
		}
		if pe.Transcript == nil || TranscriptOf(err) != c.Transcript() {
			t.Errorf("error does not carry the session transcript")
		}
		if len(c.Problems()) != 0 {
			t.Errorf("framing failure recorded as a problem reply: %v", c.Problems())
		}
		return
	}
	if r.Code != tc.code || !reflect.DeepEqual(r.Lines, tc.lines) {
		t.Fatalf("got code %d lines %q, want %d %q", r.Code, r.Lines, tc.code, tc.lines)
	}
	if string(r.Raw) != tc.in {
		t.Fatalf("Raw = %q, want %q", truncate(r.Raw, 80), truncate([]byte(tc.in), 80))
	}
	if r.At.IsZero() {
		t.Errorf("At not set")
	}
	if len(tc.problems) == 0 {
		if err != nil || len(r.Problems) != 0 || len(c.Problems()) != 0 {
			t.Fatalf("well-formed reply: err %v, problems %q, conn problems %d", err, r.Problems, len(c.Problems()))
		}
		return
	}
	for _, p := range tc.problems {
		if !containsSub(r.Problems, p) {
			t.Errorf("Problems %q lack %q", r.Problems, p)
		}
	}
	if len(r.Problems) != len(tc.problems) {
		t.Errorf("Problems %q, want exactly %d", r.Problems, len(tc.problems))
	}
	if got := c.Problems(); len(got) != 1 || got[0].Code != tc.code || string(got[0].Raw) != tc.in {
		t.Errorf("Conn.Problems() = %v, want the one malformed reply", got)
	}
	if !strict {
		if err != nil {
			t.Fatalf("lenient mode returned %v", err)
		}
		return
	}
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Kind != "malformed" {
		t.Fatalf("strict mode: want *ProtocolError malformed, got %v", err)
	}
	if string(pe.Raw) != tc.in {
		t.Fatalf("Raw = %q, want %q", pe.Raw, tc.in)
	}
	if pe.Reply == nil || pe.Reply.Code != tc.code {
		t.Fatalf("ProtocolError.Reply = %v", pe.Reply)
	}
	for _, p := range tc.problems {
		if !strings.Contains(pe.Msg, p) {
			t.Errorf("Msg %q lacks %q", pe.Msg, p)
		}
	}
}

func containsSub(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestReplyReaderDirect frames a concatenation of every non-failing case
// from one buffer, checking that Raw partitions the input exactly.
func TestReplyReaderDirect(t *testing.T) {
	var all bytes.Buffer
	var want []frameCase
	for _, tc := range frameCases {
		if tc.kind == "" {
			all.WriteString(tc.in)
			want = append(want, tc)
		}
	}
	rr := NewReplyReader(newTestReader(all.Bytes()), 0)
	for _, tc := range want {
		r, err := rr.ReadReply()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Code != tc.code || string(r.Raw) != tc.in || len(r.Problems) != len(tc.problems) {
			t.Fatalf("%s: code %d raw %q problems %q", tc.name, r.Code, truncate(r.Raw, 60), r.Problems)
		}
	}
	if _, err := rr.ReadReply(); err != io.EOF {
		t.Fatalf("after the last reply: %v, want io.EOF", err)
	}
}

func TestReplyMethods(t *testing.T) {
	r := Reply{Code: 211, Lines: []string{"211-Features:", " EPSV", "211", "211 End"}}
	if got := r.Text(); got != "Features:\n EPSV\n\nEnd" {
		t.Errorf("Text = %q", got)
	}
	if r.Class() != 2 || !r.Is(500, 211) || r.Is(200) || r.Preliminary() || !r.Multiline() {
		t.Errorf("Class/Is/Preliminary/Multiline wrong for %v", r)
	}
	if got := r.String(); got != "211-Features: |  EPSV | 211 | 211 End" {
		t.Errorf("String = %q", got)
	}
	p := Reply{Code: 150, Lines: []string{"150 Opening"}}
	if !p.Preliminary() || p.Multiline() || p.Text() != "Opening" {
		t.Errorf("preliminary reply wrong: %v %q", p, p.Text())
	}
	if (Reply{}).String() != "<no reply>" || (Reply{}).Class() != 0 {
		t.Errorf("zero Reply")
	}
	if got := (Reply{Code: 220, Lines: []string{"220"}}).Text(); got != "" {
		t.Errorf("Text of bare code = %q", got)
	}
	pe := &ProtocolError{Kind: "bad-code", Msg: "m", Raw: bytes.Repeat([]byte("x"), 1000)}
	if s := pe.Error(); !strings.Contains(s, "bad-code") || len(s) > 300 {
		t.Errorf("ProtocolError.Error = %q (raw must be truncated)", s)
	}
}
