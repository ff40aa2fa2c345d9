package matrix

import (
	"reflect"
	"testing"

	"github.com/ftpharness/ftpharness/servers/faulty"
)

func TestEvaluate(t *testing.T) {
	f := faulty.Fault{Name: "x"}
	kills := []string{"PASV-001", "PASV-002"}
	clean := map[string]string{"PASV-001": "pass", "PASV-002": "pass", "PASV-003": "pass", "SEQ-011": "fail"}
	faulted := map[string]string{"PASV-001": "fail", "PASV-002": "pass", "PASV-003": "warn", "SEQ-011": "fail"}
	o := Evaluate(f, kills, clean, faulted)
	if !reflect.DeepEqual(o.Killed, []string{"PASV-001", "PASV-003"}) || !reflect.DeepEqual(o.Missed, []string{"PASV-002"}) ||
		!reflect.DeepEqual(o.Unexpected, []string{"PASV-003"}) || o.OK() {
		t.Fatalf("%+v", o)
	}
	c := Evaluate(faulty.Fault{Name: "c", Conformant: true}, nil, clean, map[string]string{"PASV-001": "fail"})
	if !reflect.DeepEqual(c.Violations, []string{"PASV-001"}) {
		t.Fatalf("%+v", c)
	}
	score, killed, survivors := Score([]Outcome{o})
	if score <= 0 || score >= 1 || len(killed) != 1 || len(survivors) == 0 {
		t.Fatalf("score %v killed %v", score, killed)
	}
}

// fixtures/mutations.yaml declares every fault of servers/faulty, names
// only catalog checks, and gives every fault that is not conformant
// something to kill.
func TestDeclarations(t *testing.T) {
	ds, err := declarations()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range faulty.All() {
		if d := ds[f.Name]; len(d.Kills) == 0 && !f.Conformant {
			t.Errorf("%s: kills nothing and is not conformant", f.Name)
		}
	}
	if _, err := parseDeclarations([]byte("faults:\n  no-such-fault: {kills: [PASV-001]}\n")); err == nil {
		t.Error("an unknown fault and undeclared faults were accepted")
	}
	if _, err := parseDeclarations([]byte("faults: [")); err == nil {
		t.Error("a broken file was accepted")
	}
}
