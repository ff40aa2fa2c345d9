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
		ids := append([]string{}, d.Kills...)
		for id := range d.Tolerated {
			ids = append(ids, id)
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

// Tolerated returns the reason a change of check id under fault is
// tolerated, if it is.
func Tolerated(fault, id string) (string, bool) {
	why, ok := Declared(fault).Tolerated[id]
	return why, ok
}
