package matrix

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ftpharness/ftpharness/suites/catalog"
	"github.com/ftpharness/ftpharness/suites/report"
)

// Expectation is what a server is known to do on one check, and why.
type Expectation struct {
	Result report.Result `yaml:"result"`
	Reason string        `yaml:"reason"`
	// Also lists other results the check may give on this server, for a
	// server whose own behaviour is random (e.g. goftp's random port
	// choice with leaked listeners). The reason must say why.
	Also []report.Result `yaml:"also,omitempty"`
}

// Expectations of one server: every check not listed must pass (or be
// observed, for OBSERVE rows).
type Expectations struct {
	Server string                 `yaml:"server"`
	Checks map[string]Expectation `yaml:"checks"`
}

// LoadExpectations reads dir/<server>.yaml.
func LoadExpectations(dir, server string) (Expectations, error) {
	var e Expectations
	b, err := os.ReadFile(filepath.Join(dir, server+".yaml"))
	if err != nil {
		return e, err
	}
	if err := yaml.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("%s.yaml: %v", server, err)
	}
	for id, x := range e.Checks {
		if _, ok := catalog.Get(id); !ok {
			return e, fmt.Errorf("%s.yaml: unknown check %s", server, id)
		}
		if strings.TrimSpace(x.Reason) == "" {
			return e, fmt.Errorf("%s.yaml: %s has no reason", server, id)
		}
	}
	return e, nil
}

// Overlay returns e with the checks of layer replacing e's: a layer says
// where another environment legitimately differs (e.g. the containers
// layer: Docker's port publishing hides the client's source address). A
// layer row with result pass or observe removes a local expectation.
func (e Expectations) Overlay(layer Expectations) Expectations {
	out := Expectations{Server: e.Server, Checks: map[string]Expectation{}}
	for id, x := range e.Checks {
		out.Checks[id] = x
	}
	for id, x := range layer.Checks {
		out.Checks[id] = x
	}
	return out
}

// LoadLayered reads dir/<server>.yaml and, when layerDir/<server>.yaml
// exists, lays it over (see Overlay).
func LoadLayered(dir, layerDir, server string) (Expectations, error) {
	e, err := LoadExpectations(dir, server)
	if err != nil {
		return e, err
	}
	l, err := LoadExpectations(layerDir, server)
	if errors.Is(err, fs.ErrNotExist) {
		return e, nil
	}
	if err != nil {
		return e, fmt.Errorf("%s: %w", layerDir, err)
	}
	return e.Overlay(l), nil
}

// LoadIPv6 reads the IPv6 column's expectations of server:
// dir/<server>.yaml with dir/ipv6/common.yaml (what every server does
// differently over IPv6) and, when it exists, dir/ipv6/<server>.yaml laid
// over it.
func LoadIPv6(dir, server string) (Expectations, error) {
	base, err := LoadExpectations(dir, server)
	if err != nil {
		return base, err
	}
	common, err := LoadExpectations(filepath.Join(dir, "ipv6"), "common")
	if err != nil {
		return base, fmt.Errorf("ipv6: %w", err)
	}
	e := base.Overlay(common)
	own, err := LoadExpectations(filepath.Join(dir, "ipv6"), server)
	if errors.Is(err, fs.ErrNotExist) {
		return e, nil
	}
	if err != nil {
		return e, fmt.Errorf("ipv6: %w", err)
	}
	return e.Overlay(own), nil
}

// Expected is the result expected for check id.
func (e Expectations) Expected(id string) report.Result {
	if x, ok := e.Checks[id]; ok {
		return x.Result
	}
	if c, ok := catalog.Get(id); ok && c.Severity == catalog.Observe {
		return report.Observe
	}
	return report.Pass
}

func (e Expectations) allowed(id string, r report.Result) bool {
	for _, a := range e.Checks[id].Also {
		if a == r {
			return true
		}
	}
	return false
}

// Mismatch is a check whose verdict differs from the expectation.
type Mismatch struct {
	ID       string
	Expected report.Result
	Actual   report.Result
	Reason   string // the run's reason for its verdict
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s: expected %s, got %s (%s)", m.ID, m.Expected, m.Actual, m.Reason)
}

// Compare lists every check of run whose verdict differs from e, and every
// expectation naming a check the run did not report.
func Compare(run report.Run, e Expectations) []Mismatch {
	var out []Mismatch
	seen := map[string]bool{}
	for _, v := range run.Verdicts {
		seen[v.ID] = true
		if want := e.Expected(v.ID); want != v.Result && !e.allowed(v.ID, v.Result) {
			out = append(out, Mismatch{ID: v.ID, Expected: want, Actual: v.Result, Reason: v.Reason})
		}
	}
	var ids []string
	for id := range e.Checks {
		if !seen[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		out = append(out, Mismatch{ID: id, Expected: e.Checks[id].Result, Actual: "absent", Reason: "the run has no spec for this check"})
	}
	return out
}

// Skeleton renders an expectations file from a run, for a person to edit:
// every non-pass verdict is listed with the run's reason as a starting
// point, marked TODO so it is rewritten from the server's real behaviour.
func Skeleton(run report.Run) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Known verdicts of %s. Checks not listed must pass (OBSERVE rows: observe).\nserver: %s\nchecks:\n", run.Server, run.Server)
	for _, v := range run.Verdicts {
		if v.Result == report.Pass || (v.Result == report.Observe && v.Severity == string(catalog.Observe)) {
			continue
		}
		reason := strings.ReplaceAll(v.Reason, `"`, `'`)
		if len(reason) > 160 {
			reason = reason[:157] + "..."
		}
		fmt.Fprintf(&b, "  %s: {result: %s, reason: \"TODO %s\"}\n", v.ID, v.Result, reason)
	}
	return b.String()
}

// Repeated splits the mismatches of a first run into those a second run of
// the same server repeats (real: the server's behaviour changed) and those
// it does not (flaky: a server whose own behaviour is random, or timing).
func Repeated(first []Mismatch, again report.Run, e Expectations) (repeated, flaky []Mismatch) {
	second := map[string]bool{}
	for _, mm := range Compare(again, e) {
		second[mm.ID] = true
	}
	for _, mm := range first {
		if second[mm.ID] {
			repeated = append(repeated, mm)
		} else {
			flaky = append(flaky, mm)
		}
	}
	return repeated, flaky
}
