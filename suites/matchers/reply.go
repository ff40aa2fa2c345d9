// Package matchers holds Gomega matchers for FTP replies and transfers.
// Their failure messages print the raw reply bytes, so a verdict shows
// exactly what the server sent.
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
	}).WithTemplate("Expected reply code {{.Data}}\n  got:  {{.Actual.String}}\n  raw:  {{printf \"%q\" .Actual.Raw}}", codes(cs))
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
	}).WithTemplate("Expected a {{.Data}}xx reply\n  got:  {{.Actual.String}}\n  raw:  {{printf \"%q\" .Actual.Raw}}", codes(classes))
}

// BeWellFormed succeeds when the reply has no RFC 959 §4.2 problems.
func BeWellFormed() types.GomegaMatcher {
	return gcustom.MakeMatcher(func(r ftp.Reply) (bool, error) {
		return len(r.Problems) == 0, nil
	}).WithTemplate("Expected a well-formed reply (RFC 959 §4.2)\n  problems: {{.Actual.Problems}}\n  raw:  {{printf \"%q\" .Actual.Raw}}")
}

// Complete succeeds when a transfer got 1xx then 226/250 and no error.
func Complete() types.GomegaMatcher {
	return gcustom.MakeMatcher(func(t ftp.TransferResult) (bool, error) {
		return t.OK(), nil
	}).WithTemplate("Expected {{.Actual.Cmd}} to complete (1xx then 226/250)\n  got:  {{.Actual.String}}")
}
