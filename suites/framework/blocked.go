package framework

import (
	"fmt"
	"strings"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
)

// EntryBlocked names the report entry of a check that could not test its
// own rule (suites/report turns it into the "blocked" result).
const EntryBlocked = "ftpharness:blocked"

// blockedPrefix starts the skip reason of a blocked check; suites/report
// reads it (kept in step with report.blockedPrefix).
const blockedPrefix = "blocked by "

// running is the catalog ID of the check this process is running (Ginkgo
// runs one spec at a time per process).
var running atomic.Value

// Running is the catalog ID of the check being run ("" outside a check).
func Running() string {
	id, _ := running.Load().(string)
	return id
}

// Blocked ends the running check without a verdict on its own rule: a
// precondition failed for a reason check `by` judges (the passive pool is
// exhausted, the login is refused, an earlier command dropped the
// session). One defect is one failure: it fails in `by`, and every check it
// keeps from testing its own rule says "blocked by <by>: <evidence>" —
// counted apart, never a failure on its own. When the running check is
// `by` itself, the evidence is its failure.
func Blocked(by, evidence string) {
	GinkgoHelper()
	evidence = Sanitize(strings.TrimSpace(evidence))
	if Running() == by {
		Problem(evidence)
		return
	}
	msg := fmt.Sprintf("%s%s: %s", blockedPrefix, by, evidence)
	AddReportEntry(EntryBlocked, msg)
	Skip(msg)
}
