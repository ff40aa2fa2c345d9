// Package framework is what every spec stands on: Check registers a spec
// for a catalog ID with the right labels and severity behaviour; Session is
// a control connection whose cleanup and transcript are handled; Require
// skips from a probed or declared capability, with the reason.
package framework

import (
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/suites/catalog"
	"github.com/ftpharness/ftpharness/target"
)

// Report entry names the matrix and reporters read.
const (
	EntryWarn       = "ftpharness:warn"       // INTEROP rule broken
	EntryObserve    = "ftpharness:observe"    // what the server did (OBSERVE rows)
	EntryTranscript = "ftpharness:transcript" // session transcript tail on failure/warning
	EntryCheck      = "ftpharness:check"      // catalog ID, severity, RFC
)

// MaxSpecDuration is the backstop for any one spec; individual operations are
// bounded by the configured --ftp.timeout.
var MaxSpecDuration = 3 * time.Minute

var (
	cfgMu sync.RWMutex
	cfg   = target.Defaults()
)

// SetConfig installs the resolved configuration (done once per process in
// the suite's BeforeSuite).
func SetConfig(c target.Config) { cfgMu.Lock(); cfg = c; cfgMu.Unlock(); resetTLS() }

// Config is the configuration of the server under test.
func Config() target.Config { cfgMu.RLock(); defer cfgMu.RUnlock(); return cfg }

// OnCheckStart, when set (before the suite runs), is called as each
// check's spec begins: the suites' live progress line.
var OnCheckStart func(id, title string)

// Check registers one spec for catalog entry id. args are Ginkgo
// decorators followed by the body, func(ctx SpecContext). The spec text is
// "<ID> <title>", the labels come from the catalog, and the severity
// decides what a failed expectation means:
//   - must/should: the spec fails;
//   - interop: the spec passes with a warning report entry;
//   - observe: the spec passes; failed expectations are recorded.
func Check(id string, args ...any) bool {
	c := catalog.MustGet(id)
	var body func(SpecContext)
	var decorators []any
	for _, a := range args {
		if f, ok := a.(func(SpecContext)); ok {
			body = f
			continue
		}
		if a == Alone {
			continue // not a Ginkgo decorator: read by inShard
		}
		decorators = append(decorators, a)
	}
	if body == nil {
		panic("framework.Check " + id + ": no body func(SpecContext)")
	}
	if !inShard(c, args) {
		return false
	}
	decorators = append(decorators, Label(c.Labels()...), SpecTimeout(MaxSpecDuration))
	if mustRunAlone(c, args) {
		decorators = append(decorators, Label(LabelAlone))
	}
	wrapped := func(ctx SpecContext) {
		if f := OnCheckStart; f != nil {
			f(c.ID, c.Title)
		}
		noteRunning(c.ID)
		DeferCleanup(func() { noteRunning("") })
		beginLiveness(c.ID)
		AddReportEntry(EntryCheck, fmt.Sprintf("%s %s %s", c.ID, c.Severity, c.Cite()), ReportEntryVisibilityNever)
		runWithSeverity(c, func() { body(ctx) })
	}
	return It(c.ID+" "+c.Title, append(decorators, wrapped)...)
}

func runWithSeverity(c catalog.Check, f func()) {
	if c.Severity.Fails() {
		f()
		return
	}
	err := InterceptGomegaFailure(f)
	if err == nil {
		return
	}
	msg := strings.TrimSpace(Tidy(err.Error()))
	if c.Severity == catalog.Interop {
		Warn("%s (%s): %s", c.ID, c.Cite(), msg)
	} else {
		Observe("expectation not met", msg)
	}
	attachTranscripts()
}

// Warn records an INTEROP warning: the spec passes, the report says why it
// deserves attention.
func Warn(format string, args ...any) {
	msg := Sanitize(fmt.Sprintf(format, args...))
	GinkgoWriter.Println("WARNING: " + msg)
	AddReportEntry(EntryWarn, msg)
}

// Observe records what the server did, for OBSERVE rows and context.
func Observe(what string, value any) {
	s := Sanitize(fmt.Sprintf("%s: %v", what, value))
	GinkgoWriter.Println("OBSERVED: " + s)
	AddReportEntry(EntryObserve, s)
}

// Problem fails the spec with msg as the whole failure message, through
// Gomega (so the check's severity applies: an INTEROP check warns). Use it
// instead of Ginkgo's Fail, which no severity intercepts.
func Problem(msg string) {
	GinkgoHelper()
	Expect(msg).To(noProblem{})
}

// noProblem matches "" and fails with the string itself as the message.
type noProblem struct{}

func (noProblem) Match(actual any) (bool, error) {
	s, _ := actual.(string)
	return s == "", nil
}
func (noProblem) FailureMessage(actual any) string        { s, _ := actual.(string); return s }
func (noProblem) NegatedFailureMessage(actual any) string { return "expected a problem" }

// ExpectNoViolations fails (with every violation listed) when vs is not
// empty; what names the rule.
func ExpectNoViolations(vs []string, what string) {
	GinkgoHelper()
	Expect(vs).To(BeEmpty(), "%s:\n  %s", what, strings.Join(vs, "\n  "))
}
