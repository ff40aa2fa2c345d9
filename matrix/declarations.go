package matrix

import (
	"fmt"
	"sort"
	"sync"

	"github.com/ftpharness/ftpharness/fixtures"
	"github.com/ftpharness/ftpharness/servers/faulty"
	"github.com/ftpharness/ftpharness/suites/catalog"
	"gopkg.in/yaml.v3"
)

// Declaration is what one fault must do to the checks, from
// fixtures/mutations.yaml (the proxy knows no check).
type Declaration struct {
	// Kills are the checks the fault must kill (or, for one blocked by
	// another of them, keep blocked: one defect, one failure).
	Kills []string `yaml:"kills"`
	// Areas are catalog areas a focused run covers besides the kills' own.
	Areas []string `yaml:"areas"`
	// Tolerated are undeclared verdict changes that do not fail the
	// matrix, by check ID, each with its reason.
	Tolerated map[string]string `yaml:"tolerated"`
	// Focus is how a focused run selects checks: by the areas of the kills
	// (default), or FocusKills: the kills themselves, by check ID.
	Focus string `yaml:"focus"`
	// Servers adds kills and tolerated changes on one server only (by
	// server name): a rule the server keeps in a way the fault does not
	// reach elsewhere. A declared kill that does not pass clean on a
	// server is not expected there anyway (untestable).
	Servers map[string]Declaration `yaml:"servers"`
}

var declarations = sync.OnceValues(func() (map[string]Declaration, error) {
	return parseDeclarations(fixtures.Mutations)
})

// parseDeclarations reads a mutations file and checks it against the fault
// registry and the catalog: every fault declared, no unknown fault, every
// ID a catalog row.
func parseDeclarations(data []byte) (map[string]Declaration, error) {
	var file struct {
		Faults map[string]Declaration `yaml:"faults"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("fixtures/mutations.yaml: %w", err)
	}
	var problems []string
	for _, n := range faulty.Names() {
		if _, ok := file.Faults[n]; !ok {
			problems = append(problems, fmt.Sprintf("fault %s is not declared", n))
		}
	}
	for n, d := range file.Faults {
		if _, ok := faulty.Lookup(n); !ok {
			problems = append(problems, fmt.Sprintf("%s: no such fault in servers/faulty", n))
		}
		if d.Focus != "" && (d.Focus != FocusKills || len(d.Kills) == 0) {
			problems = append(problems, fmt.Sprintf("%s: focus %q: only %q, for a fault that declares kills", n, d.Focus, FocusKills))
		}
		ids := append([]string{}, d.Kills...)
		for id := range d.Tolerated {
			ids = append(ids, id)
		}
		for _, sd := range d.Servers {
			ids = append(ids, sd.Kills...)
			for id := range sd.Tolerated {
				ids = append(ids, id)
			}
		}
		for _, id := range ids {
			if _, ok := catalog.Get(id); !ok {
				problems = append(problems, fmt.Sprintf("%s: %s is not a catalog check", n, id))
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("fixtures/mutations.yaml: %v", problems)
	}
	return file.Faults, nil
}

// Declared is the declaration of the fault named name (zero when the file
// does not parse: Mutation reports that error first).
func Declared(name string) Declaration {
	d, _ := declarations()
	return d[name]
}

// FocusKills (focus: kills) makes a fault's focused run select its
// declared kills by check ID instead of their areas: for data-no-226,
// whose every transfer waits out the completion reply, and for faults
// that rewrite one command or reply, whose kills an area run found (`ftpconform
// --mutation` without --mutation-focused re-checks them on the whole suite).
const FocusKills = "kills"

// DeclaredOn is the declaration of the fault named name on server: the
// common one with the server's additions ("" for the common one alone).
func DeclaredOn(name, server string) Declaration {
	d := Declared(name)
	add, ok := d.Servers[server]
	if !ok {
		return d
	}
	out := Declaration{Kills: append(append([]string{}, d.Kills...), add.Kills...), Areas: d.Areas, Focus: d.Focus, Tolerated: map[string]string{}}
	for id, why := range d.Tolerated {
		out.Tolerated[id] = why
	}
	for id, why := range add.Tolerated {
		out.Tolerated[id] = why
	}
	return out
}

// AllKills are the fault's declared kills on any server (what its focused
// run selects, the same on every server).
func AllKills(name string) []string {
	d := Declared(name)
	kills := append([]string{}, d.Kills...)
	for _, sd := range d.Servers {
		kills = append(kills, sd.Kills...)
	}
	sort.Strings(kills)
	return kills
}

// Tolerated returns the reason a change of check id under fault is
// tolerated on server ("" for any), if it is.
func Tolerated(fault, server, id string) (string, bool) {
	why, ok := DeclaredOn(fault, server).Tolerated[id]
	return why, ok
}
