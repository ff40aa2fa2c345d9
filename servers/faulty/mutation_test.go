package faulty

import (
	"reflect"
	"testing"
)

func TestEvaluate(t *testing.T) {
	f := Fault{Name: "x", Kills: []string{"PASV-001", "PASV-002"}}
	clean := map[string]string{"PASV-001": "pass", "PASV-002": "pass", "PASV-003": "pass", "SEQ-011": "fail"}
	faulted := map[string]string{"PASV-001": "fail", "PASV-002": "pass", "PASV-003": "warn", "SEQ-011": "fail"}
	o := Evaluate(f, clean, faulted)
	if !reflect.DeepEqual(o.Killed, []string{"PASV-001", "PASV-003"}) || !reflect.DeepEqual(o.Missed, []string{"PASV-002"}) ||
		!reflect.DeepEqual(o.Unexpected, []string{"PASV-003"}) || o.OK() {
		t.Fatalf("%+v", o)
	}
	c := Evaluate(Fault{Name: "c", Conformant: true}, clean, map[string]string{"PASV-001": "fail"})
	if !reflect.DeepEqual(c.Violations, []string{"PASV-001"}) {
		t.Fatalf("%+v", c)
	}
	score, killed, survivors := Score([]Outcome{o})
	if score <= 0 || score >= 1 || len(killed) != 1 || len(survivors) == 0 {
		t.Fatalf("score %v killed %v", score, killed)
	}
}
