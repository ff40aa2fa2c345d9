// Package matchers holds Gomega matchers for FTP replies and transfers.
// Their failure messages are one line, "want <rule>, got <raw reply
// bytes quoted>", so a verdict shows exactly what the server sent.
package matchers

import (
	"fmt"
	"strings"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/ftpharness/ftpharness/ftp"
)

func codes(cs []int) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = fmt.Sprint(c)
	}
	return strings.Join(s, " or ")
}

// HaveCode succeeds when the reply's code is one of cs.
func HaveCode(cs ...int) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(r ftp.Reply) (bool, error) {
		return r.Is(cs...), nil
	}).WithTemplate("want reply code {{if .NegatedFailure}}other than {{end}}{{.Data}}, got {{printf \"%q\" .Actual.Raw}}", codes(cs))
}

// HaveClass succeeds when the reply's first digit is one of classes (4 for
// 4xx...).
func HaveClass(classes ...int) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(r ftp.Reply) (bool, error) {
		for _, c := range classes {
			if r.Class() == c {
				return true, nil
			}
		}
		return false, nil
	}).WithTemplate("want {{if .NegatedFailure}}no{{else}}a{{end}} {{.Data}}xx reply, got {{printf \"%q\" .Actual.Raw}}", codes(classes))
}

// BeWellFormed succeeds when the reply has no RFC 959 §4.2 problems.
func BeWellFormed() types.GomegaMatcher {
	return gcustom.MakeMatcher(func(r ftp.Reply) (bool, error) {
		return len(r.Problems) == 0, nil
	}).WithTemplate("want {{if .NegatedFailure}}a malformed{{else}}a well-formed{{end}} reply (RFC 959 §4.2), got {{printf \"%q\" .Actual.Raw}}: {{range $i, $p := .Actual.Problems}}{{if $i}}; {{end}}{{$p}}{{end}}")
}

// Complete succeeds when a transfer got 1xx then 226/250 and no error.
func Complete() types.GomegaMatcher {
	return gcustom.MakeMatcher(func(t ftp.TransferResult) (bool, error) {
		return t.OK(), nil
	}).WithTemplate("want {{.Actual.Cmd}} {{.To}} complete (1xx then 226/250), got {{.Actual.String}}")
}
