package matrix

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/faulty"
	"github.com/ftpharness/ftpharness/suites/catalog"
	"github.com/ftpharness/ftpharness/suites/report"
)

// The mutation matrix: the suites run against one real server through the
// fault proxy (servers/faulty), once with no fault and once per fault. A
// check is killed by a fault when it passes on the clean run and fails
// (MUST/SHOULD) or warns (INTEROP) with the fault. The mutation score is
// the share of the MUST/SHOULD checks that pass on the clean run and that
// at least one fault kills.

// MutationOptions configure Mutation.
type MutationOptions struct {
	// Binary is the ftpconform executable.
	Binary string
	// Server is the real server behind the proxy (default "pyftpdlib").
	Server string
	// Faults to inject, one per run (default faulty.Names()).
	Faults []string
	// Dir receives one subdirectory per run: profile, suite output,
	// reports and the proxy's trace.
	Dir string
	// Parallel is how many runs go at once, each on its own server (and
	// proxy) instance (default 2).
	Parallel int
	// Focused restricts each fault's run to the areas of its declared
	// kills (FocusAreas), compared with a clean run restricted the same
	// way. Unfocused, every run is the whole suite.
	Focused bool
	// NoDirect skips the direct (proxy-less) runs that prove the clean
	// proxy transparent.
	NoDirect bool
	// Timeout is --ftp.timeout for every run, clean and faulted, so the
	// verdicts compare (default 5s: data-no-226 and the stall faults wait
	// for it; pyftpdlib answers a wrong password after 3s, so it must stay
	// above that).
	Timeout time.Duration
	// Stall is how long reply-stall holds a reply (default Timeout+2s).
	Stall time.Duration
	// PerRun bounds one suite run (default 15 minutes: with data-no-226
	// every transfer of the whole suite waits out 4×timeout).
	PerRun time.Duration
	// Args are extra ftpconform arguments for every run.
	Args []string
	// Exclude lists check IDs left out of every comparison (flaky checks;
	// say why where the list is built).
	Exclude map[string]string
	// Progress, if set, is told when each run starts and ends.
	Progress func(run, event string)
	// Reuse reads the verdicts of runs already in Dir instead of running
	// them again (to re-evaluate after correcting a fault's Kills).
	Reuse bool
	// Seed is --ginkgo.seed for every run (default Seed).
	Seed string
	// WholeClean compares every focused run by areas with one clean run of
	// the whole suite (per server) instead of a clean run of its own
	// areas: fewer runs, and the score's killable checks are all known.
	WholeClean bool
	// Confirm runs every fault whose outcome differs from its declaration
	// (a declared kill missed, an undeclared change, a conformant fault
	// failing a check) once more, and counts only what repeats
	// (confirmPlans); what the second run does not repeat is listed in the
	// fault's NotRepeated, so flakes stay visible.
	Confirm bool
	// runner replaces the suite run (o.run) in unit tests: no servers.
	runner func(ctx context.Context, o MutationOptions, r *MutationRun) error
}

// MutationRun is one suite run of the mutation matrix.
type MutationRun struct {
	Name     string            `json:"name"`
	Fault    string            `json:"fault,omitempty"`
	Direct   bool              `json:"direct,omitempty"`
	Filter   string            `json:"filter,omitempty"`
	Focus    string            `json:"focus,omitempty"`
	Timeout  string            `json:"timeout"`
	Dir      string            `json:"dir"`
	Seconds  float64           `json:"seconds"`
	Error    string            `json:"error,omitempty"`
	Verdicts map[string]string `json:"verdicts,omitempty"`
	reasons  map[string]string
	sel      selection
}

// selection is what one run selects: a label filter or a focus regexp,
// and the --ftp.timeout.
type selection struct {
	Label, Focus string
	Timeout      time.Duration
}

// key names the selection (the timeout only when it is not the default).
func (s selection) key(def time.Duration) string {
	var parts []string
	if s.Label != "" {
		parts = append(parts, s.Label)
	}
	if s.Focus != "" {
		parts = append(parts, "focus "+s.Focus)
	}
	if s.Timeout != def {
		parts = append(parts, "timeout "+s.Timeout.String())
	}
	return strings.Join(parts, ", ")
}

// faultTimeouts are faults run (with their clean baseline) under a shorter
// --ftp.timeout: with data-no-226 every transfer waits 4×timeout for the
// completion reply, which at 5s makes a full run last over half an hour.
var faultTimeouts = map[string]time.Duration{"data-no-226": 2 * time.Second}

// slowFaults rank the faults whose runs take longest (scheduled first; a
// whole-suite clean run ranks 55): focused on pyftpdlib, pasv-port-cooldown
// and pasv-leak-unused wait out the starved pool (190 s), data-no-226 every
// 226 (165 s), reply-stall its stalls (110 s).
var slowFaults = map[string]int{"pasv-port-cooldown": 70, "pasv-leak-unused": 60, "data-no-226": 50, "reply-stall": 40,
	"pasv-shared-port": 30, "reply-split-segments": 20, "abor-deferred": 20, "data-early-226": 10}

// Change is one check whose verdict differs between two runs.
type Change struct {
	ID      string `json:"id"`
	Clean   string `json:"clean"`
	Faulted string `json:"faulted"`
	Reason  string `json:"reason,omitempty"`
}

// FaultOutcome is one fault's row of the matrix.
type FaultOutcome struct {
	Fault      string   `json:"fault"`
	Server     string   `json:"server,omitempty"`
	Doc        string   `json:"doc"`
	Conformant bool     `json:"conformant,omitempty"`
	Declared   []string `json:"declared"`
	Filter     string   `json:"filter,omitempty"`
	Killed     []string `json:"killed"`
	Missed     []string `json:"missed,omitempty"`
	// Untestable lists declared kills that do not pass on the clean run
	// (the server already breaks the rule, or the check skips): no fault
	// can kill them here, so they are not counted as missed.
	Untestable []string `json:"untestable,omitempty"`
	// Unexpected lists checks in the fault's focus areas whose verdict
	// changed although the fault does not declare them.
	Unexpected []string `json:"unexpected,omitempty"`
	// Collateral lists checks outside the focus areas whose verdict
	// changed (unfocused runs only): a fault that breaks every PASV breaks
	// every check that transfers data, whatever rule it enforces.
	Collateral []string `json:"collateral,omitempty"`
	// Masked lists undeclared checks whose verdict changed for a reason
	// named in Tolerated (the proxy's way of making the fault, order or
	// timing), not the fault's rule.
	Masked []string `json:"masked,omitempty"`
	// Blocked lists undeclared checks whose verdict became "blocked" by
	// one of the fault's declared kills: one defect, one failure (not a
	// kill, not unexpected).
	Blocked    []string `json:"blocked,omitempty"`
	Violations []string `json:"violations,omitempty"`
	// NotRepeated lists what the first run of the fault showed (missed,
	// unexpected, violation) and a second run did not, or the other way
	// round (Confirm): flaky, not counted.
	NotRepeated []string `json:"not_repeated,omitempty"`
	// RerunError is why the second run (Confirm) gave no verdicts: the
	// first run's outcome stands.
	RerunError string   `json:"rerun_error,omitempty"`
	Changes    []Change `json:"changes,omitempty"`
	Error      string   `json:"error,omitempty"`
	Seconds    float64  `json:"seconds"`
	OK         bool     `json:"ok"`
}

// Transparency compares a direct run with the clean proxy run of the same
// filter.
type Transparency struct {
	Filter  string   `json:"filter,omitempty"`
	Same    bool     `json:"same"`
	Changes []Change `json:"changes,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// Survivor is a MUST/SHOULD check that passes clean but no fault kills.
type Survivor struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Category string `json:"category"`
	Reason   string `json:"reason"`
}

// MutationReport is the outcome of the mutation matrix.
type MutationReport struct {
	Schema       int               `json:"schema"`
	Server       string            `json:"server"`
	Focused      bool              `json:"focused,omitempty"`
	Timeout      string            `json:"timeout"`
	Seconds      float64           `json:"seconds"`
	Excluded     map[string]string `json:"excluded,omitempty"`
	Transparency []Transparency    `json:"transparency,omitempty"`
	// Clean is the clean proxy run's verdicts (unfocused runs only).
	Clean  map[string]string `json:"clean,omitempty"`
	Faults []FaultOutcome    `json:"faults"`
	// Score is len(Killed)/Killable: over the MUST/SHOULD checks that
	// pass on the clean run.
	Score    float64  `json:"score"`
	Killable int      `json:"killable"`
	Killed   []string `json:"killed"`
	// Targeted is the checks killed by a fault that declares them (not
	// only as collateral); TargetedScore is len(Targeted)/Killable.
	Targeted      []string `json:"targeted"`
	TargetedScore float64  `json:"targeted_score"`
	// CatalogScore is Score: over every MUST/SHOULD check of the
	// catalog, whatever its clean verdict.
	CatalogScore float64    `json:"catalog_score"`
	CatalogMS    int        `json:"catalog_must_should"`
	Survivors    []Survivor `json:"survivors"`
	// MUST/SHOULD checks that cannot be killed on this server.
	AlreadyFailing []string      `json:"already_failing,omitempty"`
	Skipped        []string      `json:"skipped,omitempty"`
	NotRun         []string      `json:"not_run,omitempty"`
	Runs           []MutationRun `json:"runs"`
}

// MutationSchema is the version of docs/mutation-SERVER.json's layout.
const MutationSchema = 1

// FocusAreas are the catalog areas a fault's focused run covers: the
// primary area of every declared kill, and the declared extra areas.
func FocusAreas(f faulty.Fault) []string {
	set := map[string]bool{}
	d := Declared(f.Name)
	for _, id := range AllKills(f.Name) {
		if c, ok := catalog.Get(id); ok {
			set[c.Area] = true
		}
	}
	for _, a := range d.Areas {
		set[a] = true
	}
	var out []string
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// LabelFilter is the --ginkgo.label-filter selecting the areas.
func LabelFilter(areas []string) string { return strings.Join(areas, " || ") }

// Mutation runs the mutation matrix against one server.
func Mutation(ctx context.Context, o MutationOptions) (MutationReport, error) {
	ms, err := Mutations(ctx, o, []string{o.withDefaults().Server})
	if err != nil {
		return MutationReport{}, err
	}
	return ms[0], nil
}

// Mutations runs the mutation matrix against several servers at once: the
// runs of every server's plan share one pool of o.Parallel workers (the
// servers' runs interleaved, slow ones first), each server's files under
// o.Dir/<server> when there is more than one. One report per server.
func Mutations(ctx context.Context, o MutationOptions, servers []string) ([]MutationReport, error) {
	start := time.Now()
	var plans []*mutationPlan
	for _, srv := range servers {
		so := o
		so.Server = srv
		if len(servers) > 1 {
			so.Dir = filepath.Join(o.Dir, srv)
		}
		p, err := prepareMutation(so)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	runPlans(ctx, plans, o.Parallel)
	if o.Confirm {
		confirmPlans(ctx, plans, o.Parallel)
	}
	var out []MutationReport
	for _, p := range plans {
		m := p.report()
		m.Seconds = time.Since(start).Seconds()
		out = append(out, m)
	}
	return out, nil
}

// prepareMutation checks o's faults and builds the plan of runs.
func prepareMutation(o MutationOptions) (*mutationPlan, error) {
	o = o.withDefaults()
	if len(o.Faults) == 0 {
		o.Faults = faulty.Names()
	}
	var faults []faulty.Fault
	for _, n := range o.Faults {
		f, ok := faulty.Lookup(n)
		if !ok {
			return nil, fmt.Errorf("unknown fault %q (known: %s)", n, strings.Join(faulty.Names(), ", "))
		}
		faults = append(faults, f)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	return newMutationPlan(o, faults), nil
}

// report judges the plan's runs.
func (p *mutationPlan) report() MutationReport {
	o := p.o
	m := MutationReport{Schema: MutationSchema, Server: o.Server, Focused: o.Focused, Timeout: o.Timeout.String(), Excluded: o.Exclude}
	for _, r := range p.runs {
		m.Runs = append(m.Runs, *r)
	}
	m.Transparency = p.transparency()
	var outcomes []Outcome
	m.Faults, outcomes = p.faultOutcomes()
	m.CatalogScore, _, _ = Score(outcomes)
	m.score(p)
	return m
}

// mutationPlan is the runs of one mutation matrix: per selection a clean
// proxy run (and a direct one), then one run per fault.
type mutationPlan struct {
	o        MutationOptions
	faults   []faulty.Fault
	sels     map[string]selection // by key
	filters  []string             // selection keys, in first-use order
	filterOf map[string]string    // fault name -> selection key
	baseOf   map[string]string    // fault name -> the selection key of its clean run
	cleanOf  map[string]*MutationRun
	directOf map[string]*MutationRun
	faultRun map[string]*MutationRun
	runs     []*MutationRun
	// againOf and cleanAgainOf are the second runs of Confirm: of a fault
	// (by name), of a clean run (by selection key).
	againOf      map[string]*MutationRun
	cleanAgainOf map[string]*MutationRun
}

func newMutationPlan(o MutationOptions, faults []faulty.Fault) *mutationPlan {
	p := &mutationPlan{o: o, faults: faults, sels: map[string]selection{}, filterOf: map[string]string{}, baseOf: map[string]string{},
		cleanOf: map[string]*MutationRun{}, directOf: map[string]*MutationRun{}, faultRun: map[string]*MutationRun{},
		againOf: map[string]*MutationRun{}, cleanAgainOf: map[string]*MutationRun{}}
	for _, f := range faults {
		k := p.baseline(p.selectionFor(f))
		p.baseOf[f.Name] = k
		if _, ok := p.cleanOf[k]; ok {
			continue
		}
		c := p.run("clean"+slug(k), k, "", false)
		p.cleanOf[k] = c
		p.filters = append(p.filters, k)
		p.runs = append(p.runs, c)
		if !o.NoDirect {
			d := p.run("direct"+slug(k), k, "", true)
			p.directOf[k] = d
			p.runs = append(p.runs, d)
		}
	}
	for _, f := range faults {
		r := p.run("fault-"+f.Name, p.filterOf[f.Name], f.Name, false)
		p.faultRun[f.Name] = r
		p.runs = append(p.runs, r)
	}
	return p
}

// baseline is the selection of the clean run a fault's run of selection
// k is compared with. With WholeClean, a focused run (by areas or check
// IDs) at the default timeout is compared with the one whole-suite clean
// run (the verdicts do not depend on which checks run beside:
// TestSeedsAgree); otherwise, and at another timeout (data-no-226), with a
// clean run of the same selection.
func (p *mutationPlan) baseline(k string) string {
	sel := p.sels[k]
	if !p.o.WholeClean || sel.Timeout != p.o.Timeout {
		return k
	}
	whole := selection{Timeout: p.o.Timeout}
	key := whole.key(p.o.Timeout)
	p.sels[key] = whole
	return key
}

// selectionFor records and returns the key of what f's runs select: its
// focus areas (or kills) when focused, the timeout it needs.
func (p *mutationPlan) selectionFor(f faulty.Fault) string {
	sel := selection{Timeout: p.o.Timeout}
	if d, ok := faultTimeouts[f.Name]; ok {
		sel.Timeout = d
	}
	if p.o.Focused {
		if Declared(f.Name).Focus == FocusKills {
			sel.Focus = `\b(` + strings.Join(AllKills(f.Name), "|") + `)\b`
		} else {
			sel.Label = LabelFilter(FocusAreas(f))
		}
	}
	k := sel.key(p.o.Timeout)
	p.sels[k] = sel
	p.filterOf[f.Name] = k
	return k
}

func (p *mutationPlan) run(name, key, fault string, direct bool) *MutationRun {
	sel := p.sels[key]
	return &MutationRun{Name: name, Filter: sel.Label, Focus: sel.Focus, Timeout: sel.Timeout.String(), Fault: fault, Direct: direct, sel: sel}
}

// transparency compares each direct run with its clean proxy run.
func (p *mutationPlan) transparency() []Transparency {
	var out []Transparency
	for _, fl := range p.filters {
		d, c := p.directOf[fl], p.cleanOf[fl]
		if d == nil {
			continue
		}
		t := Transparency{Filter: fl}
		switch {
		case d.Error != "" || c.Error != "":
			t.Error = strings.TrimSpace(d.Error + " " + c.Error)
		default:
			t.Changes = diff(d.Verdicts, c.Verdicts, c.reasons, transparencyExclude(fl, p.o.Exclude))
			t.Same = len(t.Changes) == 0
		}
		out = append(out, t)
	}
	return out
}

// faultOutcomes judges each fault's run against its clean run; a fault
// run again (Confirm) keeps only what both runs show (confirm).
func (p *mutationPlan) faultOutcomes() ([]FaultOutcome, []Outcome) {
	var fos []FaultOutcome
	var outcomes []Outcome
	for _, f := range p.faults {
		c := p.cleanOf[p.baseOf[f.Name]]
		fo, out := p.judgeRun(f, p.faultRun[f.Name], c)
		if again := p.againOf[f.Name]; again != nil && fo.Error == "" {
			if ca := p.cleanAgainOf[p.baseOf[f.Name]]; ca != nil && ca.Error == "" {
				c = ca
			}
			second, _ := p.judgeRun(f, again, c)
			fo = confirm(fo, second)
			out.Killed, out.Missed, out.Unexpected, out.Violations = fo.Killed, fo.Missed, fo.Unexpected, fo.Violations
		}
		if fo.Error == "" {
			outcomes = append(outcomes, out)
		}
		fos = append(fos, fo)
	}
	return fos, outcomes
}

// judgeRun judges fault f's run r against clean run c.
func (p *mutationPlan) judgeRun(f faulty.Fault, r, c *MutationRun) (FaultOutcome, Outcome) {
	d := DeclaredOn(f.Name, p.o.Server)
	fo := FaultOutcome{Fault: f.Name, Server: p.o.Server, Doc: f.Doc, Conformant: f.Conformant, Declared: append([]string{}, d.Kills...),
		Filter: p.filterOf[f.Name], Seconds: r.Seconds}
	sort.Strings(fo.Declared)
	if r.Error != "" || c.Error != "" {
		fo.Error = strings.TrimSpace(r.Error + " " + c.Error)
		return fo, Outcome{}
	}
	clean, faulted := drop(c.Verdicts, p.o.Exclude), drop(r.Verdicts, p.o.Exclude)
	if p.baseOf[f.Name] != p.filterOf[f.Name] {
		// the whole-suite baseline: the checks the fault's run selected
		clean = sameRun(only(clean, faulted), faulted)
	}
	out := Evaluate(f, d.Kills, clean, faulted)
	judge(&fo, f, out, clean, faulted, r.reasons)
	return fo, out
}

// score fills the score: killable = MUST/SHOULD checks that pass clean (on
// any clean run that includes them), killed by any fault, targeted by one
// that declares them.
func (m *MutationReport) score(p *mutationPlan) {
	cleanAll := map[string]string{}
	for _, fl := range p.filters {
		for id, v := range p.cleanOf[fl].Verdicts {
			if cleanAll[id] == "" || cleanAll[id] == "skip" {
				cleanAll[id] = v
			}
		}
	}
	if !p.o.Focused {
		m.Clean = cleanAll
	}
	killedBy := map[string][]string{}
	declaredBy := map[string][]string{}
	for _, fo := range m.Faults {
		for _, id := range fo.Killed {
			killedBy[id] = append(killedBy[id], fo.Fault)
		}
		for _, id := range fo.Declared {
			declaredBy[id] = append(declaredBy[id], fo.Fault)
		}
	}
	for _, c := range catalog.All() {
		if !c.Severity.Fails() {
			continue
		}
		m.CatalogMS++
		if _, ex := p.o.Exclude[c.ID]; ex {
			continue
		}
		m.scoreCheck(c, cleanAll[c.ID], killedBy[c.ID], declaredBy[c.ID])
	}
	if m.Killable > 0 {
		m.Score = float64(len(m.Killed)) / float64(m.Killable)
		m.TargetedScore = float64(len(m.Targeted)) / float64(m.Killable)
	}
}

// scoreCheck files one MUST/SHOULD check by its clean verdict and the
// faults that killed and declared it.
func (m *MutationReport) scoreCheck(c catalog.Check, clean string, killedBy, declaredBy []string) {
	switch clean {
	case "pass":
	case "fail", "warn":
		m.AlreadyFailing = append(m.AlreadyFailing, c.ID)
		return
	case "skip":
		m.Skipped = append(m.Skipped, c.ID)
		return
	default:
		m.NotRun = append(m.NotRun, c.ID)
		return
	}
	m.Killable++
	for _, f := range declaredBy {
		if contains(killedBy, f) {
			m.Targeted = append(m.Targeted, c.ID)
			break
		}
	}
	if len(killedBy) > 0 {
		m.Killed = append(m.Killed, c.ID)
		return
	}
	cat, why := survivorReason(c, declaredBy)
	m.Survivors = append(m.Survivors, Survivor{ID: c.ID, Severity: string(c.Severity), Title: c.Title, Category: cat, Reason: why})
}

// judge fills a fault's row from Evaluate's outcome. A check blocked
// by one of the fault's declared kills that it killed, or made worse
// (RANGE-008 warns on vsftpd and fails with pasv-leak-unused)
// (framework.Blocked: "blocked by PASV-001: ..."), is the suite keeping
// one defect to one failure: not a kill, not unexpected, not missed
// (Blocked); a change
// Tolerated names is masked; the rest are unexpected inside the fault's
// focus areas and collateral outside them.
func judge(fo *FaultOutcome, f faulty.Fault, out Outcome, clean, faulted, reasons map[string]string) {
	fo.Killed = out.Killed
	// Evaluate counts every MUST/SHOULD failure under a
	// conformant fault, also those the server fails without it; only
	// failures the fault brought about are violations.
	for _, id := range out.Violations {
		if clean[id] != "fail" {
			fo.Violations = append(fo.Violations, id)
		}
	}
	focus := map[string]bool{}
	for _, a := range FocusAreas(f) {
		focus[a] = true
	}
	// blockedByKill: the check is blocked by a check the fault declares
	// and killed; the fault's one defect fails once, in its owner.
	blockedByKill := func(id string) bool {
		by := report.BlockedBy(reasons[id])
		return faulted[id] == string(report.Blocked) && contains(DeclaredOn(f.Name, fo.Server).Kills, by) && worse(clean[by], faulted[by])
	}
	for _, id := range out.Unexpected {
		if blockedByKill(id) {
			fo.Blocked = append(fo.Blocked, id)
			continue
		}
		if _, ok := Tolerated(f.Name, fo.Server, id); ok {
			fo.Masked = append(fo.Masked, id)
			continue
		}
		if inAreas(id, focus) {
			fo.Unexpected = append(fo.Unexpected, id)
		} else {
			fo.Collateral = append(fo.Collateral, id)
		}
	}
	for _, id := range out.Missed {
		if blockedByKill(id) {
			// declared, but the suite now reports the cascade as blocked:
			// the kill belongs to the blocker (a declaration to trim)
			fo.Blocked = append(fo.Blocked, id)
			continue
		}
		if clean[id] == "pass" {
			fo.Missed = append(fo.Missed, id)
		} else {
			fo.Untestable = append(fo.Untestable, id)
		}
	}
	fo.Changes = diff(clean, faulted, reasons, nil)
	fo.OK = len(fo.Missed) == 0 && len(fo.Unexpected) == 0 && len(fo.Violations) == 0
}

// worse reports whether a check's verdict got worse from clean to
// faulted: a kill, or a warning that became a failure.
func worse(clean, faulted string) bool {
	return Killed(clean, faulted) || (clean == "warn" && faulted == "fail")
}

// withDefaults fills in the defaults one run needs.
func (o MutationOptions) withDefaults() MutationOptions {
	if o.Server == "" {
		o.Server = "pyftpdlib"
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Stall == 0 {
		o.Stall = o.Timeout + 2*time.Second
	}
	if o.PerRun == 0 {
		o.PerRun = 15 * time.Minute
	}
	if o.Seed == "" {
		o.Seed = Seed
	}
	return o
}

// RunOne is one run of the matrix on its own: the suites against a fresh
// o.Server, directly or through a fresh proxy injecting fault ("" for the
// clean proxy), restricted to the label filter ("" for the whole suite),
// with o.Seed; its files go to o.Dir/name. The run's Verdicts hold the
// checks it selected.
func (o MutationOptions) RunOne(ctx context.Context, name, fault string, direct bool, label string) (*MutationRun, error) {
	o = o.withDefaults()
	sel := selection{Label: label, Timeout: o.Timeout}
	r := &MutationRun{Name: name, Fault: fault, Direct: direct, Filter: label, Timeout: o.Timeout.String(), sel: sel}
	err := o.run(ctx, r)
	if err != nil {
		r.Error = err.Error()
	}
	return r, err
}

// Reason is the reason the run gave check id's verdict.
func (r *MutationRun) Reason(id string) string { return r.reasons[id] }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// inAreas reports whether check id carries one of the area labels.
func inAreas(id string, areas map[string]bool) bool {
	c, ok := catalog.Get(id)
	if !ok {
		return false
	}
	for _, a := range c.Areas {
		if areas[a] {
			return true
		}
	}
	return false
}

// slug turns a label filter into a run-name suffix.
func slug(filter string) string {
	if filter == "" {
		return ""
	}
	f := strings.NewReplacer("||", " ", `\b`, "", "(", "", ")", "", "|", " ", ",", " ", "focus", "", "timeout", "").Replace(filter)
	s := "-" + strings.Join(strings.Fields(f), "+")
	if len(s) > maxSlug {
		// a directory name must stay under 255 bytes: cut, and keep it
		// unique with a hash of the whole selection
		h := fnv.New32a()
		h.Write([]byte(s))
		s = fmt.Sprintf("%s-%08x", s[:maxSlug-9], h.Sum32())
	}
	return s
}

// maxSlug bounds a run name's selection suffix.
const maxSlug = 100

// runWide are checks whose verdict sums up what every check of the run
// saw (REPLY-006: an extra reply in any session), so a focused run that
// leaves out the check that saw one passes where the whole suite failed.
var runWide = map[string]bool{"REPLY-006": true}

// transparencyExclude is exclude, plus the run-wide checks for a focused
// filter (fl != ""): there their verdict depends on which checks of the
// selection happened to see evidence, and the proxy cannot reproduce all
// of it (pyftpdlib's unsolicited 425 to a data connection from a foreign
// address: through the proxy the server sees the proxy's address), so a
// direct fail against no verdict through the proxy says nothing of the
// proxy's transparency. The whole suite compares them.
func transparencyExclude(fl string, exclude map[string]string) map[string]string {
	if fl == "" {
		return exclude
	}
	out := make(map[string]string, len(exclude)+len(runWide))
	for id, why := range exclude {
		out[id] = why
	}
	for id := range runWide {
		out[id] = "run-wide: compared on the whole suite"
	}
	return out
}

// sameRun takes, for a run-wide check that is not worse in the focused
// faulted run than in the whole-suite clean run, the faulted verdict as
// the clean one: only what the fault made worse counts.
func sameRun(clean, faulted map[string]string) map[string]string {
	for id := range runWide {
		if c, ok := clean[id]; ok && !worse(c, faulted[id]) {
			clean[id] = faulted[id]
		}
	}
	return clean
}

// only keeps the verdicts of a for the checks b has.
func only(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(b))
	for id, v := range a {
		if _, ok := b[id]; ok {
			out[id] = v
		}
	}
	return out
}

func drop(v map[string]string, exclude map[string]string) map[string]string {
	out := make(map[string]string, len(v))
	for id, r := range v {
		if _, ex := exclude[id]; !ex {
			out[id] = r
		}
	}
	return out
}

// diff lists the checks whose verdict differs from a to b (reasons from
// b's run), in catalog order.
func diff(a, b map[string]string, reasons map[string]string, exclude map[string]string) []Change {
	var out []Change
	for _, c := range catalog.All() {
		if _, ex := exclude[c.ID]; ex {
			continue
		}
		x, y := a[c.ID], b[c.ID]
		if x != y {
			out = append(out, Change{ID: c.ID, Clean: x, Faulted: y, Reason: reasons[c.ID]})
		}
	}
	return out
}

// run does one suite run on a fresh server instance (behind a fresh proxy
// unless r.Direct).
func (o MutationOptions) run(ctx context.Context, r *MutationRun) error {
	start := time.Now()
	defer func() { r.Seconds = time.Since(start).Seconds() }()
	ctx, cancel := context.WithTimeout(ctx, o.PerRun)
	defer cancel()
	dir := filepath.Join(o.Dir, r.Name)
	if o.Reuse {
		if run, err := readVerdicts(filepath.Join(dir, "verdicts.json")); err == nil {
			r.Dir = dir
			r.setVerdicts(run)
			defer func() { r.Seconds = run.Seconds }() // the suite's own time
			return nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r.Dir = dir
	root, err := os.MkdirTemp("", "ftpharness-mutation-"+o.Server+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	spec := servers.Spec{Root: filepath.Join(root, "root"), StateDir: filepath.Join(root, "state")}
	if n, ok := RangeSizes[o.Server]; ok {
		spec.PasvMax = n
	}
	srv, err := servers.Start(ctx, o.Server, spec)
	if err != nil {
		return fmt.Errorf("start %s: %w", o.Server, err)
	}
	defer srv.Stop()
	tgt := srv.Target()
	if !r.Direct {
		logf, closeLog := proxyLog(filepath.Join(dir, "proxy.log"))
		defer closeLog()
		opts := []faulty.Option{faulty.StallFor(o.Stall), faulty.WithLogf(logf), faulty.Trace()}
		if r.Fault != "" {
			opts = append(opts, faulty.WithFaults(faulty.MustLookup(r.Fault)))
		}
		p, err := faulty.StartFor(ctx, tgt, opts...)
		if err != nil {
			return fmt.Errorf("proxy: %w", err)
		}
		defer p.Close()
		tgt = p.Target(tgt)
	}
	profile := filepath.Join(dir, "profile.yaml")
	if err := tgt.WriteProfile(profile); err != nil {
		return err
	}
	out, err := os.Create(filepath.Join(dir, "output.txt"))
	if err != nil {
		return err
	}
	defer out.Close()
	// one process per run: the runs already go o.Parallel at a time, the
	// faults' declarations (tolerated order effects) were measured so, and
	// a seed fixes the order of one process only
	args := []string{"--ftp.profile=" + profile, "--report-dir=" + dir, "--ginkgo.no-color", "--ginkgo.seed=" + o.Seed,
		"--ftp.timeout=" + r.sel.Timeout.String(), "--workers=1"}
	if r.Filter != "" {
		args = append(args, "--ginkgo.label-filter="+r.Filter)
	}
	if r.Focus != "" {
		args = append(args, "--ginkgo.focus="+r.Focus)
	}
	args = append(args, o.Args...)
	cmd := exec.CommandContext(ctx, o.Binary, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 10 * time.Second
	runErr := cmd.Run()
	run, err := readVerdicts(filepath.Join(dir, "verdicts.json"))
	if err != nil {
		return fmt.Errorf("%s: the suite produced no verdicts (%v; exit: %v); see %s", r.Name, err, runErr, out.Name())
	}
	var ee *exec.ExitError
	if errors.As(runErr, &ee) && ee.ExitCode() > 1 {
		os.Remove(filepath.Join(dir, "verdicts.json"))
		return fmt.Errorf("%s: ftpconform exited %d; see %s", r.Name, ee.ExitCode(), out.Name())
	}
	r.setVerdicts(run)
	return nil
}

func readVerdicts(path string) (report.Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return report.Run{}, err
	}
	defer f.Close()
	return report.ReadJSON(f)
}

// setVerdicts keeps the verdicts of the checks the run selected.
func (r *MutationRun) setVerdicts(run report.Run) {
	r.Verdicts, r.reasons = map[string]string{}, map[string]string{}
	for _, v := range run.Verdicts {
		if (r.Filter != "" || r.Focus != "") && v.Result == report.Skip && v.Reason == "not selected" {
			continue // outside the label filter
		}
		r.Verdicts[v.ID] = string(v.Result)
		r.reasons[v.ID] = v.Reason
	}
}

// proxyLog writes the proxy's trace, one line per event, long lines cut.
func proxyLog(path string) (func(string, ...any), func()) {
	f, err := os.Create(path)
	if err != nil {
		return func(string, ...any) {}, func() {}
	}
	var mu sync.Mutex
	t0 := time.Now()
	logf := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		if len(s) > 400 {
			s = s[:400] + fmt.Sprintf("... (%d bytes)", len(s))
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(f, "%8.3f %s\n", time.Since(t0).Seconds(), s)
	}
	return logf, func() { mu.Lock(); f.Close(); mu.Unlock() }
}

// Survivor categories.
const (
	SurvivorDeclared   = "declared, not killed"
	SurvivorNoFault    = "no fault for this rule"
	SurvivorOutOfReach = "out of the proxy's reach"
)

// survivorReason says why no fault kills a check that passes clean.
func survivorReason(c catalog.Check, declaredBy []string) (category, reason string) {
	if len(declaredBy) > 0 {
		return SurvivorDeclared, fmt.Sprintf("declared by %s, but the verdict did not change: the declaration or the check is wrong", strings.Join(declaredBy, ", "))
	}
	if r, ok := survivorHints[c.ID]; ok {
		return r[0], r[1]
	}
	if r, ok := areaHints[c.Area]; ok {
		return SurvivorNoFault, r
	}
	return SurvivorNoFault, "no registered fault breaks this rule"
}

// survivorHints explain individual survivors (category, what fault would
// kill it); areaHints the rest by area.
var survivorHints = map[string][2]string{
	"LIST-006": {SurvivorOutOfReach, "vsftpd starts a listing of a missing path (150) and sends an empty one, which the check accepts; only listing data the server never sent would make it warn, and the proxy invents no data"},
	"SEC-010":  {SurvivorOutOfReach, "the server connects to the PORT address itself, past the proxy: only a proxy that dialled the client's data port after the control connection closed could emulate the late connection, and the proxy dials nothing on a client's behalf"},
}

var areaHints = map[string]string{
	"active":     "active data connections go from the server to the client directly, past the proxy; only PORT/EPRT commands and replies can be faulted",
	"sequencing": "no fault rewrites this command or its reply",
	"security":   "no fault rewrites this reply or changes what reaches the server",
	"feat":       "no fault rewrites this FEAT/OPTS/SIZE/MDTM reply",
	"listing":    "no fault rewrites this listing or MLST/MLSD reply",
	"transfer":   "no fault rewrites this transfer command's reply",
	"reply":      "no fault rewrites this reply's text",
}
