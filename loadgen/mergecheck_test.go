package loadgen

import (
	"strings"
	"testing"
)

// CheckMerged passes an exact merge and names each way a merge can be
// wrong: lost bytes, a missing shard, a latency histogram counted twice.
func TestCheckMerged(t *testing.T) {
	reps, whole := shardReports(t)
	// shardReports builds the reference from every result under one shard's
	// settings; an unsharded run would carry the totals
	whole.Settings.Sessions, whole.Settings.Count, whole.Settings.Shard = 8, 4000, nil
	merged, _, err := Merge(reps, []string{"s0", "s1", "s2", "s3"})
	if err != nil {
		t.Fatal(err)
	}
	if d := CheckMerged(whole, merged, reps, DefaultMergeTolerance); d != nil {
		t.Fatalf("exact merge reported as different: %v", d)
	}

	lost := *merged
	lost.Totals.Bytes--
	if d := CheckMerged(whole, &lost, reps, DefaultMergeTolerance); len(d) != 1 || !strings.HasPrefix(d[0], "totals:") {
		t.Errorf("lost byte: %v", d)
	}

	three, _, err := Merge(reps[:3], []string{"s0", "s1", "s2"})
	if err != nil {
		t.Fatal(err)
	}
	d := CheckMerged(whole, three, reps[:3], DefaultMergeTolerance)
	if !strings.Contains(strings.Join(d, "\n"), "does not say 3 shards of 3") || !strings.Contains(strings.Join(d, "\n"), "totals:") {
		t.Errorf("missing shard: %v", d)
	}

	twice := *merged
	twice.Latency.Count *= 2
	if d := CheckMerged(whole, &twice, reps, DefaultMergeTolerance); len(d) != 1 || !strings.HasPrefix(d[0], "merged latency") {
		t.Errorf("histogram counted twice: %v", d)
	}

	slow := *merged
	slow.Latency.P99 = whole.Latency.P99*10 + 100
	if d := CheckMerged(whole, &slow, reps, DefaultMergeTolerance); !strings.Contains(strings.Join(d, "\n"), "p99: merged") {
		t.Errorf("p99 far from the reference: %v", d)
	}
}
