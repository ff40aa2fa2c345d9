package framework

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ftpharness/ftpharness/ftp"
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

// started records every check this process has begun (whether SEC-001's
// wrong passwords may have locked the account out).
var started sync.Map

// noteRunning marks id as the running check ("" when none runs).
func noteRunning(id string) {
	running.Store(id)
	if id != "" {
		started.Store(id, true)
	}
}

// Owners of the preconditions the helpers check (catalog rows).
const (
	// LoginJudge judges USER/PASS with the configured credentials (331
	// then 230): a refusal that no lockout explains is its defect.
	LoginJudge = "SEQ-002"
	// LockoutJudge sends wrong passwords (RFC 2577 §5): a refusal of the
	// right password after it ran may be its lockout.
	LockoutJudge = "SEC-001"
)

// dataOwner is the check that judges a data connection to the last
// endpoint s was given: PASV-004 for a 227, EPSV-002 for a 229 — when that
// was the session's first passive setup; "" (the running check judges it)
// after other data-connection commands.
func (s *Session) dataOwner() string {
	if !s.lastPassiveFirst {
		return ""
	}
	if s.lastPassive.Code == 229 {
		return "EPSV-002"
	}
	return "PASV-004"
}

// lockoutText matches a refusal that says why: too many attempts, a lock
// or a ban, or "try again later".
var lockoutText = regexp.MustCompile(`(?i)too many|lock|ban|attempt|later|temporar`)

// loginBlocker names the check that judges the refusal of a login with
// the configured credentials (which logged in when the run started): SEC-001
// when a lockout is plausible (it ran in this process, or the reply says
// so, or it is a 421), else SEQ-002.
func loginBlocker(re *ftp.ReplyError) (owner, evidence string) {
	_, secRan := started.Load(LockoutJudge)
	ev := fmt.Sprintf("login as %s: %s answered %q although these credentials logged in when the run started", Config().User, re.Cmd, re.Reply.Raw)
	if secRan || re.Reply.Code == 421 || lockoutText.MatchString(re.Reply.Text()) {
		return LockoutJudge, ev + " (a lockout after SEC-001's wrong passwords is plausible)"
	}
	return LoginJudge, ev
}

// blockOnLoginRefusal blocks the running check when err is the server
// refusing the configured login (a reply, not a transport error).
func blockOnLoginRefusal(err error) {
	GinkgoHelper()
	var re *ftp.ReplyError
	if errors.As(err, &re) {
		Blocked(loginBlocker(re))
	}
}

// blockOrFail blocks the running check naming owner, or — when no other
// check judges the precondition (owner "") — fails it with the evidence.
func blockOrFail(owner, evidence string) {
	GinkgoHelper()
	if owner == "" {
		Problem(Sanitize(evidence))
		return
	}
	Blocked(owner, evidence)
}
