package framework

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
)

// greetingProblems is what the wire layer finds wrong with raw sent as a
// greeting.
func greetingProblems(t *testing.T, raw string) []string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte(raw))
		time.Sleep(time.Second)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := ftp.Dial(ctx, ln.Addr().String(), ftp.WithStrictReplies(false))
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	defer c.Close()
	var out []string
	for _, r := range c.Problems() {
		out = append(out, r.Problems...)
	}
	return out
}

// Each problem the wire layer reports goes to the row whose rule it
// breaks: CRLF and the code's form are REPLY-001's, the multi-line
// structure REPLY-002's.
func TestFramingProblemsRouted(t *testing.T) {
	cases := []struct{ raw, check string }{
		{"220 bare LF\n", "REPLY-001"},
		{"220-hi\r\n220 end\n", "REPLY-001"},
		{"220\r\n", "REPLY-001"},
		{"220-hi\r\n220\r\n", "REPLY-002"},
		{"220-hi\r\n230 other code\r\n", "REPLY-002"},
		{"220-hi\r\n123 unpadded\r\n220 end\r\n", "REPLY-002"},
	}
	for _, tc := range cases {
		ps := greetingProblems(t, tc.raw)
		if len(ps) == 0 {
			t.Errorf("%q: no problem found", tc.raw)
		}
		for _, p := range ps {
			if got := FramingCheck(p); got != tc.check {
				t.Errorf("%q: problem %q routed to %s, want %s", tc.raw, p, got, tc.check)
			}
		}
	}
}
