package framework

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/onsi/gomega"
)

// dump matches what a Go value dump leaves in a text: Gomega's type tags,
// pointers, slice lengths and capacities. (A struct without a String
// method still shows its fields.)
var dump = regexp.MustCompile(`<\[\]|<\*|<string>|<int>|<bool>|0x[0-9a-f]{6,}|len:\d|cap:\d`)

// A verdict reason is one line in the reader's terms: whatever Gomega
// expectation failed, Tidy leaves no Go type, pointer, length or struct
// dump (before: `Expected <[]string | len:2, cap:2>: [ ... ] to be empty`,
// `Unexpected error: <*ftp.OpError | 0x3df602d243c0>: ... { Op: ...`).
func TestTidyLeavesNoValueDump(t *testing.T) {
	problems := []string{`HELP: "502 no\r\n" (want [211 214])`, `STRU F: "502 no\r\n"`}
	opErr := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	type reply struct {
		Code int
		Text string
	}
	cases := []struct {
		name  string
		run   func(g gomega.Gomega)
		wants []string
	}{
		{"problem list", func(g gomega.Gomega) {
			g.Expect(problems).To(gomega.BeEmpty(), "reply codes outside the allowed set")
		}, []string{`reply codes outside the allowed set: HELP: "502 no\r\n" (want [211 214]); STRU F: "502 no\r\n"`}},
		{"problem list already in the description", func(g gomega.Gomega) {
			g.Expect(problems).To(gomega.BeEmpty(), "deviations: "+strings.Join(problems, "\n"))
		}, []string{`deviations: HELP: "502 no\r\n" (want [211 214]) STRU F: "502 no\r\n"`}},
		{"error", func(g gomega.Gomega) {
			g.Expect(fmt.Errorf("ftp read reply: %w", opErr)).NotTo(gomega.HaveOccurred(), "after one wrong password")
		}, []string{"after one wrong password: error: ftp read reply: read tcp: connection reset by peer"}},
		{"succeed", func(g gomega.Gomega) {
			g.Expect(fmt.Errorf("ftp read reply: %w", opErr)).To(gomega.Succeed(), "login as ftpuser")
		}, []string{"login as ftpuser: error: ftp read reply: read tcp: connection reset by peer"}},
		{"prefix", func(g gomega.Gomega) {
			g.Expect("500 Unknown command\r\n").To(gomega.HavePrefix("200"), "IAC WILL 1 then NOOP")
		}, []string{`IAC WILL 1 then NOOP: got "500 Unknown command\r\n", expected to have prefix "200"`}},
		{"actual already in the description", func(g gomega.Gomega) {
			g.Expect("500 x").To(gomega.HavePrefix("200"), `NOOP got "500 x"`)
		}, []string{`NOOP got "500 x": expected to have prefix "200"`}},
		{"number", func(g gomega.Gomega) { g.Expect(3).To(gomega.Equal(4), "listeners") }, []string{"listeners: got 3, expected to equal 4"}},
		{"bool", func(g gomega.Gomega) { g.Expect(false).To(gomega.BeTrue(), "the port is in range") }, []string{"the port is in range"}},
		{"struct", func(g gomega.Gomega) {
			g.Expect(&reply{Code: 500, Text: "x"}).To(gomega.BeNil(), "a reply")
		}, nil},
		{"map", func(g gomega.Gomega) {
			g.Expect(map[string]int{"a": 1}).To(gomega.BeEmpty(), "open listeners")
		}, nil},
	}
	for _, c := range cases {
		var msg string
		g := gomega.NewGomega(func(m string, _ ...int) { msg = m })
		c.run(g)
		got := Tidy(msg)
		if strings.Contains(got, "\n") || dump.MatchString(got) {
			t.Errorf("%s: %q\nfrom Gomega's %q", c.name, got, msg)
		}
		for _, w := range c.wants {
			if got != w {
				t.Errorf("%s: %q, want %q", c.name, got, w)
			}
		}
	}
}

// A message in none of Gomega's shapes is left as the spec wrote it.
func TestTidyKeepsOwnMessages(t *testing.T) {
	for _, m := range []string{"sent `PASV x`, got \"227 ...\"\r\n; fix: refuse it", "Expected reply code 501\n  got: 500", ""} {
		if got := Tidy(m); got != m {
			t.Errorf("Tidy(%q) = %q", m, got)
		}
	}
}

// A description then a matcher's "want ..., got ..." line is one line.
func TestTidyJoinsDescriptionAndMatcher(t *testing.T) {
	got := Tidy("FEAT with an argument\nwant reply code 501, got \"211 end\\r\\n\"")
	if want := `FEAT with an argument: want reply code 501, got "211 end\r\n"`; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
