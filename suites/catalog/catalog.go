// Package catalog lists every conformance check ftpharness knows: its ID,
// area, severity, RFC sources and a one-line title. The suites register
// specs by ID from here, and ftpconform --list-checks prints it.
package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Severity decides what a broken rule does to the verdict.
type Severity string

const (
	Must    Severity = "must"    // RFC MUST/SHALL: fails
	Should  Severity = "should"  // RFC SHOULD: fails
	Interop Severity = "interop" // relied on by clients: warns
	Observe Severity = "observe" // policy: recorded, never fails
)

// Fails reports whether a broken rule of this severity fails the spec.
func (s Severity) Fails() bool { return s == Must || s == Should }

// Check is one catalog row.
type Check struct {
	ID       string
	Star     bool
	Area     string // first part of the catalog area (pasv, epsv, ...)
	Areas    []string
	Severity Severity
	RFCs     []string // e.g. "959§4.1.2"
	Title    string
}

// Prefix is the ID's area prefix (PASV, EPSV, ...).
func (c Check) Prefix() string { p, _, _ := strings.Cut(c.ID, "-"); return p }

// RFCLabels are the Ginkgo labels naming the RFCs ("RFC:959").
func (c Check) RFCLabels() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range c.RFCs {
		n, _, _ := strings.Cut(r, "§")
		if !seen[n] {
			seen[n] = true
			out = append(out, "RFC:"+n)
		}
	}
	return out
}

// Labels are all Ginkgo labels of the check: areas, severity, star, RFCs.
func (c Check) Labels() []string {
	out := append([]string{}, c.Areas...)
	out = append(out, string(c.Severity))
	if c.Star {
		out = append(out, "star")
	}
	return append(out, c.RFCLabels()...)
}

// Cite renders the RFC sources, e.g. "RFC 959 §4.1.2, RFC 1123 §4.1.2.6".
func (c Check) Cite() string {
	var parts []string
	for _, r := range c.RFCs {
		n, sec, ok := strings.Cut(r, "§")
		if ok {
			parts = append(parts, fmt.Sprintf("RFC %s §%s", n, sec))
		} else {
			parts = append(parts, "RFC "+n)
		}
	}
	if len(parts) == 0 {
		return "interoperability practice"
	}
	return strings.Join(parts, ", ")
}

var all, byID = parse()

func parse() ([]Check, map[string]Check) {
	var list []Check
	m := map[string]Check{}
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		f := strings.SplitN(line, "|", 6)
		if len(f) != 6 {
			panic("catalog: bad row " + line)
		}
		c := Check{ID: f[0], Star: f[1] == "*", Severity: Severity(f[3]), Title: f[5]}
		c.Areas = strings.Split(f[2], "/")
		c.Area = c.Areas[0]
		if f[4] != "" {
			c.RFCs = strings.Split(f[4], ",")
		}
		if _, dup := m[c.ID]; dup {
			panic("catalog: duplicate " + c.ID)
		}
		list = append(list, c)
		m[c.ID] = c
	}
	return list, m
}

// All returns every check in catalog order.
func All() []Check { return append([]Check(nil), all...) }

// Get returns the check with id.
func Get(id string) (Check, bool) { c, ok := byID[id]; return c, ok }

// MustGet returns the check with id or panics (spec registration).
func MustGet(id string) Check {
	c, ok := byID[id]
	if !ok {
		panic("catalog: unknown check " + id)
	}
	return c
}

// Labels lists every label any check carries, sorted.
func Labels() []string {
	set := map[string]bool{}
	for _, c := range all {
		for _, l := range c.Labels() {
			set[l] = true
		}
	}
	var out []string
	for l := range set {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}
