package matchers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/ftpharness/ftpharness/ftp"
)

// BeInPortRange succeeds when an int port lies in [lo,hi].
func BeInPortRange(lo, hi int) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(p int) (bool, error) {
		return p >= lo && p <= hi, nil
	}).WithTemplate("want the passive port {{if .NegatedFailure}}outside{{else}}in{{end}} the declared range {{.Data}}, got {{.Actual}}", fmt.Sprintf("%d-%d", lo, hi))
}

var protoList = regexp.MustCompile(`^([^()]*)\((\d+(?:,\d+)*)\)[.\s]*$`)

// ProtocolList extracts the RFC 2428 §2 list of network protocols from a
// 522 reply text: "<text> (prot1,prot2,...)" at the end, with no
// parentheses in the text before it. ok is false when the text does not
// have that form.
func ProtocolList(text string) (afs []int, ok bool) {
	m := protoList.FindStringSubmatch(strings.TrimSpace(text))
	if m == nil {
		return nil, false
	}
	for _, f := range strings.Split(m[2], ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, false
		}
		afs = append(afs, n)
	}
	return afs, true
}

// Be522Listing succeeds for a 522 reply whose text ends in the RFC 2428
// protocol list "(1)", "(1,2)"... and whose list includes af (the family
// the control connection itself uses, which the server evidently supports).
func Be522Listing(af int) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(r ftp.Reply) (bool, error) {
		if r.Code != 522 {
			return false, nil
		}
		afs, ok := ProtocolList(r.Text())
		if !ok {
			return false, nil
		}
		for _, a := range afs {
			if a == af {
				return true, nil
			}
		}
		return false, nil
	}).WithTemplate("want {{if .NegatedFailure}}anything but {{end}}522 with the supported protocols as \"(prot1,prot2,...)\" ending the text and listing {{.Data}} (RFC 2428 §2-3), got {{printf \"%q\" .Actual.Raw}}", af)
}
