// Package report turns a Ginkgo run of the suites into verdicts per catalog
// check (pass, fail, warn, skip, observe) with the reason and evidence, and
// renders them for people (text) and machines (JSON).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/ftpharness/ftpharness/suites/catalog"
)

// Result of one check.
type Result string

const (
	Pass    Result = "pass"
	Fail    Result = "fail"
	Warn    Result = "warn"
	Skip    Result = "skip"
	Observe Result = "observe"
	// Blocked: the check could not test its own rule because a
	// precondition failed for a reason another check judges (the reason
	// names it). Counted apart; never a failure on its own.
	Blocked Result = "blocked"
)

// rank orders results so several specs of one ID combine to the worst.
var rank = map[Result]int{Skip: 0, Blocked: 1, Observe: 2, Pass: 3, Warn: 4, Fail: 5}

// Verdict is the outcome of one catalog check against one server.
type Verdict struct {
	ID           string   `json:"id"`
	Severity     string   `json:"severity"`
	Area         string   `json:"area"`
	Title        string   `json:"title"`
	RFC          string   `json:"rfc"`
	Result       Result   `json:"result"`
	Reason       string   `json:"reason,omitempty"`
	Observations []string `json:"observations,omitempty"`
	Transcript   string   `json:"transcript,omitempty"`
	Seconds      float64  `json:"seconds"`
}

// Run is the verdicts of one suite run.
type Run struct {
	Schema   int       `json:"schema"`
	Target   string    `json:"target,omitempty"`
	Server   string    `json:"server,omitempty"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	Verdicts []Verdict `json:"verdicts"`
	// Interrupted says a signal cut the run short: the check running then
	// and every later one are skips, not verdicts about the server.
	Interrupted string `json:"interrupted,omitempty"`
	// Stopped is set when the server stopped answering mid-run and the
	// remaining checks were skipped ("server stopped answering after ID").
	Stopped string `json:"stopped,omitempty"`
	// Setup is the failure of the suite's BeforeSuite (it starts the
	// embedded server and shares the configuration): the checks it kept
	// from running are skips, not verdicts about the server.
	Setup string `json:"setup,omitempty"`
}

// Schema is the version of the JSON layout.
const Schema = 1

// Entry names written by the framework (kept in step with
// suites/framework; duplicated here so this package does not import
// Ginkgo's DSL).
const (
	entryWarn       = "ftpharness:warn"
	entryObserve    = "ftpharness:observe"
	entryTranscript = "ftpharness:transcript"
	entryTarget     = "ftpharness:target"
	// entryStoppedStreak lists the checks that ended waiting for a server
	// that stopped answering, in order (framework.EntryStoppedStreak).
	entryStoppedStreak = "ftpharness:stopped-streak"
	// entryEvidence + a check ID is evidence a spec saw of that check's
	// rule being broken (run-wide checks: runWide).
	entryEvidence = "ftpharness:evidence:"
	// blockedPrefix starts the skip reason of a check framework.Blocked
	// kept from testing its rule.
	blockedPrefix = "blocked by "
	// stoppedPrefix starts the skip reason framework.Check gives every check
	// after the server stopped answering.
	stoppedPrefix = "server stopped answering after "
)

// Reasons for checks an interrupt kept from a verdict.
const (
	reasonInterrupted = "interrupted while running"
	reasonNotRun      = "not run (interrupted)"
	reasonNoSetup     = "not run (suite setup failed)"
)

// FromGinkgo builds a Run from a Ginkgo report.
func FromGinkgo(r types.Report) Run {
	run := Run{Schema: Schema, Started: r.StartTime, Seconds: r.RunTime.Seconds()}
	byID := map[string]*Verdict{}
	wide := runEvidence{}
	var streaks []string
	for _, sr := range r.SpecReports {
		id, _, _ := strings.Cut(sr.LeafNodeText, " ")
		for _, e := range sr.ReportEntries {
			switch e.Name {
			case entryTarget:
				run.Target = e.StringRepresentation()
			case entryStoppedStreak:
				streaks = append(streaks, e.StringRepresentation())
			}
			if check, ok := strings.CutPrefix(e.Name, entryEvidence); ok {
				wide.add(check, e.StringRepresentation(), id)
			}
		}
		if sr.LeafNodeType.Is(types.NodeTypeBeforeSuite|types.NodeTypeSynchronizedBeforeSuite) && sr.State.Is(types.SpecStateFailureStates&^types.SpecStateInterrupted) && run.Setup == "" {
			run.Setup = oneLine(sr.Failure.Message)
		}
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		c, ok := catalog.Get(id)
		if !ok {
			continue
		}
		v := verdictOf(c, sr)
		noteStop(&run, r, sr, &v)
		if prev, ok := byID[id]; ok {
			prev.Seconds += v.Seconds
			if rank[v.Result] > rank[prev.Result] {
				v.Seconds = prev.Seconds
				*prev = v
			}
			continue
		}
		byID[id] = &v
	}
	for _, st := range streaks {
		onlyWaited(byID, strings.Fields(st))
	}
	wide.judge(byID)
	reattributeBlocked(byID)
	for _, v := range byID {
		run.Verdicts = append(run.Verdicts, *v)
	}
	SortByCatalog(run.Verdicts)
	return run
}

func verdictOf(c catalog.Check, sr types.SpecReport) Verdict {
	v := Verdict{ID: c.ID, Severity: string(c.Severity), Area: c.Area, Title: c.Title, RFC: c.Cite(), Seconds: sr.RunTime.Seconds()}
	var warns []string
	for _, e := range sr.ReportEntries {
		switch e.Name {
		case entryWarn:
			warns = append(warns, e.StringRepresentation())
		case entryObserve:
			v.Observations = append(v.Observations, e.StringRepresentation())
		case entryTranscript:
			if len(v.Transcript) < 8000 {
				v.Transcript += e.StringRepresentation() + "\n"
			}
		}
	}
	switch {
	case sr.State == types.SpecStateSkipped || sr.State == types.SpecStatePending:
		v.Result = Skip
		v.Reason = firstLine(sr.Failure.Message)
		if v.Reason == "" {
			v.Reason = "not selected"
		}
		if strings.HasPrefix(v.Reason, blockedPrefix) {
			v.Result = Blocked
		}
	case sr.State == types.SpecStateInterrupted:
		// the operator stopped the run: no claim about the server
		v.Result = Skip
		v.Reason = reasonInterrupted
	case sr.State.Is(types.SpecStateFailureStates):
		v.Result = Fail
		v.Reason = oneLine(sr.Failure.Message)
		if sr.State == types.SpecStateTimedout {
			v.Reason = "timed out: " + v.Reason
		}
	case len(warns) > 0:
		v.Result = Warn
		v.Reason = oneLine(strings.Join(warns, "; "))
	case c.Severity == catalog.Observe:
		v.Result = Observe
		v.Reason = oneLine(strings.Join(v.Observations, "; "))
	default:
		v.Result = Pass
	}
	return v
}

// onlyWaited keeps the failure of the first check of a streak that ended
// waiting for a server that then stopped answering (it stopped during that
// check, which may have caused it) and makes the later ones skips: they
// only waited for it too, so their failures would blame their own rules
// for one defect (a fresh connection had confirmed the server was gone).
func onlyWaited(byID map[string]*Verdict, streak []string) {
	if len(streak) < 2 {
		return
	}
	for _, id := range streak[1:] {
		if v := byID[id]; v != nil && v.Result == Fail {
			v.Result = Skip
			v.Reason = stoppedPrefix + streak[0] + " (this check then waited for an answer that never came: " + v.Reason + ")"
			v.Reason = oneLine(v.Reason)
		}
	}
}

// noteStop records on run why checks were kept from a verdict: an
// interrupt (the running check, then every selected check not run) or a
// server that stopped answering.
func noteStop(run *Run, r types.Report, sr types.SpecReport, v *Verdict) {
	if run.Stopped == "" && strings.HasPrefix(v.Reason, stoppedPrefix) {
		run.Stopped = v.Reason
	}
	if run.Setup != "" && v.Result == Skip && sr.Failure.Message == "" && selected(r.SuiteConfig, sr) {
		v.Reason = reasonNoSetup
	}
	if !interrupted(r) {
		return
	}
	run.Interrupted = "interrupted"
	if v.Result == Skip && sr.Failure.Message == "" && sr.State == types.SpecStateSkipped && selected(r.SuiteConfig, sr) {
		v.Reason = reasonNotRun
	}
}

// interrupted reports whether a signal (or another process's abort) cut
// the run short; Ginkgo records it as a special failure reason.
func interrupted(r types.Report) bool {
	for _, reason := range r.SpecialSuiteFailureReasons {
		if strings.HasPrefix(reason, "Interrupted by") {
			return true
		}
	}
	return false
}

// selected reports whether the run's label filter, focus and skip
// patterns chose sr: in an interrupted run Ginkgo reports the specs it
// did not get to exactly like the ones the filters left out.
func selected(cfg types.SuiteConfig, sr types.SpecReport) bool {
	if match, err := types.ParseLabelFilter(cfg.LabelFilter); err == nil && !match(sr.Labels()) {
		return false
	}
	text := sr.FullText()
	if len(cfg.FocusStrings) > 0 {
		re, err := regexp.Compile(strings.Join(cfg.FocusStrings, "|"))
		if err == nil && !re.MatchString(text) {
			return false
		}
	}
	if len(cfg.SkipStrings) > 0 {
		re, err := regexp.Compile(strings.Join(cfg.SkipStrings, "|"))
		if err == nil && re.MatchString(text) {
			return false
		}
	}
	return true
}

// NameSignal names the signal that interrupted the run in its reasons,
// e.g. "interrupted (SIGINT) while running". A signal makes the run an
// interrupted one even when no check was running: a run spread over
// workers that gets it while it lists the checks starts none, and each
// reads "not run (interrupted)" (it exited 0 before).
func (r *Run) NameSignal(name string) {
	if name == "" {
		return
	}
	r.Interrupted = "interrupted by " + name
	for i := range r.Verdicts {
		if r.Verdicts[i].Reason == reasonInterrupted {
			r.Verdicts[i].Reason = "interrupted (" + name + ") while running"
		}
	}
}

// sameCause groups checks that judge one condition from different sides: a
// passive pool that runs dry is RANGE-007's when earlier transfers' ports
// are not reusable yet, RANGE-008's when listeners of sessions that went
// away are never closed. The suite names RANGE-007 when it meets an
// exhausted pool; which one failed is known only once all have run.
var sameCause = map[string][]string{"RANGE-007": {"RANGE-008"}}

// reattributeBlocked names, for a check blocked by a check that did not
// fail or warn in this run, another check of its sameCause group that did,
// so the blocked verdict points at the defect that was reported.
func reattributeBlocked(byID map[string]*Verdict) {
	defective := func(id string) bool {
		v, ok := byID[id]
		return ok && (v.Result == Fail || v.Result == Warn)
	}
	for _, v := range byID {
		by := BlockedBy(v.Reason)
		if v.Result != Blocked || by == "" || defective(by) {
			continue
		}
		for _, alt := range sameCause[by] {
			if defective(alt) {
				v.Reason = blockedPrefix + alt + strings.TrimPrefix(v.Reason, blockedPrefix+by)
				break
			}
		}
	}
}

// BlockedBy is the check a blocked verdict's reason names ("blocked by
// RANGE-007: ..." → "RANGE-007"), or "" for any other reason.
func BlockedBy(reason string) string {
	rest, ok := strings.CutPrefix(reason, blockedPrefix)
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ":")
	return strings.TrimSpace(id)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// MaxReason bounds a verdict's one-line reason in verdicts.json. It is
// wide enough for the longest advice (an FTPS port advice for an unknown
// server, with its firewall rule, is ~880 characters) plus what a probe
// appends; the terminal summary cuts its own lines shorter, and junit and
// ginkgo.json keep the whole message.
const MaxReason = 1200

// oneLine squeezes a multi-line failure message into one line of at most
// MaxReason bytes, cut on a character boundary.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= MaxReason {
		return s
	}
	cut := MaxReason - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// SortByCatalog orders verdicts as the catalog lists the checks.
func SortByCatalog(vs []Verdict) {
	pos := map[string]int{}
	for i, c := range catalog.All() {
		pos[c.ID] = i
	}
	sort.SliceStable(vs, func(i, j int) bool { return pos[vs[i].ID] < pos[vs[j].ID] })
}

// Counts tallies results.
func (r Run) Counts() map[Result]int {
	m := map[Result]int{}
	for _, v := range r.Verdicts {
		m[v.Result]++
	}
	return m
}

// Failed reports whether any check failed.
func (r Run) Failed() bool { return r.Counts()[Fail] > 0 }

// WriteJSON is a reporter: the run as indented JSON.
func (r Run) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadJSON reads a run written by WriteJSON.
func ReadJSON(rd io.Reader) (Run, error) {
	var r Run
	err := json.NewDecoder(rd).Decode(&r)
	return r, err
}

// runWide describes the checks whose evidence comes from every spec of the
// run: a session notices the breach wherever it happens, the spec that saw
// it keeps its own verdict, and the check named here gets it once.
var runWide = map[string]struct{ what, rule string }{
	"REPLY-001": {"malformed reply", "malformed replies (RFC 959 §4.2: each line `ddd<SP>text` or `ddd-text`, first digit 1-5, ending in CRLF; RFC 1123 §4.1.2.11: only correctly formatted replies)"},
	"REPLY-002": {"malformed multi-line reply", "malformed multi-line replies (RFC 959 §4.2: the last line begins with the same code followed by a space; intermediate lines that begin with three digits are padded)"},
	"REPLY-004": {"reply broken by an echoed argument", "replies whose framing a CR or LF echoed from the command's argument broke (RFC 959 §4.2: every reply line ends in CRLF; proftpd/proftpd#1977). Fix: escape or drop CR and LF before echoing an argument"},
	"REPLY-006": {"extra reply", "unsolicited replies after the command's completion reply (RFC 959 §4.2: one completion reply per command; the session was re-synchronised)"},
}

// Bounds on the run-wide evidence kept in one verdict.
const (
	maxExtraInReason      = 5
	maxExtraObservations  = 30
	maxChecksPerExtraText = 6
)

// runEvidence is the run-wide evidence for every check of runWide.
type runEvidence map[string]*evidence

func (re runEvidence) add(check, text, seenIn string) {
	if _, ok := runWide[check]; !ok {
		return
	}
	x := re[check]
	if x == nil {
		x = &evidence{}
		re[check] = x
	}
	x.add(text, seenIn)
}

// judge gives each check with evidence its run-wide verdict.
func (re runEvidence) judge(byID map[string]*Verdict) {
	for id, x := range re {
		x.judge(id, byID)
	}
}

// evidence collects the breaches of one check reported by the specs of a
// run, deduplicated by text, with the checks that saw each.
type evidence struct {
	order  []string
	checks map[string][]string
	total  int
}

func (x *evidence) add(text, check string) {
	if check == "" {
		check = "suite setup"
	}
	x.total++
	if x.checks == nil {
		x.checks = map[string][]string{}
	}
	cs, seen := x.checks[text]
	if !seen {
		x.order = append(x.order, text)
	}
	for _, c := range cs {
		if c == check {
			return
		}
	}
	x.checks[text] = append(cs, check)
}

func (x *evidence) describe(text string) string {
	cs := x.checks[text]
	more := ""
	if len(cs) > maxChecksPerExtraText {
		more = fmt.Sprintf(" and %d more", len(cs)-maxChecksPerExtraText)
		cs = cs[:maxChecksPerExtraText]
	}
	return fmt.Sprintf("%s (seen in %s%s)", text, strings.Join(cs, ", "), more)
}

// judge fails check id once for the whole run (warns for an INTEROP row)
// when any spec saw a breach of its rule, whether or not its own spec ran,
// with the evidence; the specs that saw them keep their own verdicts.
func (x *evidence) judge(id string, byID map[string]*Verdict) {
	if x.total == 0 {
		return
	}
	c, known := catalog.Get(id)
	if !known {
		return
	}
	v, ok := byID[id]
	if !ok {
		v = &Verdict{ID: c.ID, Severity: string(c.Severity), Area: c.Area, Title: c.Title, RFC: c.Cite()}
		byID[id] = v
	}
	desc := runWide[id]
	var shown []string
	for i, t := range x.order {
		if i < maxExtraObservations {
			v.Observations = append(v.Observations, desc.what+": "+x.describe(t))
		}
		if i < maxExtraInReason {
			shown = append(shown, x.describe(t))
		}
	}
	if n := len(x.order) - len(shown); n > 0 {
		shown = append(shown, fmt.Sprintf("%d more", n))
	}
	reason := fmt.Sprintf("%d %s: %s", x.total, desc.rule, strings.Join(shown, "; "))
	result := runWideResult(c.Severity)
	if v.Result == result && v.Reason != "" {
		reason = v.Reason + "; run-wide: " + reason
	}
	if rank[result] >= rank[v.Result] {
		v.Result = result
		v.Reason = oneLine(reason)
	}
}

// runWideResult is what a breach of a row's rule makes of its verdict.
func runWideResult(s catalog.Severity) Result {
	switch s {
	case catalog.Interop:
		return Warn
	case catalog.Observe:
		return Observe
	}
	return Fail
}
