package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
)

// usePort has a session use a passive port the way checks do: a tiny
// server advertises it in a 227, read through Conn.Passive with the
// target's options (the port observer among them).
func usePort(t *testing.T, port int) {
	t.Helper()
	addr := pasvServerOn(t, port, func(time.Duration) string { return "" })
	opts, err := targetOptions()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ftp.Dial(context.Background(), addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.Passive(context.Background(), false); err != nil {
		t.Fatal(err)
	}
}

// The ports used are known in this process and, through PortsUsedEnv, in
// the other workers of a run: the latest time counts.
func TestLastUseAcrossWorkers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ports-used")
	t.Setenv(PortsUsedEnv, file)
	usePort(t, 30123)
	mine := LastUse(30123)
	if mine.IsZero() || time.Since(mine) > time.Minute {
		t.Fatalf("LastUse(30123) = %v after a 227 advertised it now", mine)
	}
	// another worker's later use of the same port, and noise
	later := time.Now().Add(2 * time.Second)
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("the use was not written to %s: %v", PortsUsedEnv, err)
	}
	fmt.Fprintf(f, "30123 %d\ngarbage\n30123 x\n2 %d\n", later.UnixNano(), later.Add(time.Hour).UnixNano())
	f.Close()
	if got := LastUse(30123); !got.Equal(later) {
		t.Errorf("LastUse(30123) = %v, want the other worker's %v", got, later)
	}
	if got := LastUse(3); !got.IsZero() {
		t.Errorf("LastUse of a port never used = %v, want zero", got)
	}
}

// A port used just before the check looked is waited for (then looked at
// again); one never used, or used long enough before the check looked, is
// not: a server that never hands out its upper bound costs no wait.
func TestAwaitPortsFreed(t *testing.T) {
	setWait(t, 10*time.Second, 30*time.Second, "30000-30019")
	t.Setenv(PortsUsedEnv, "")
	old := PoolRecovery
	PoolRecovery = 500 * time.Millisecond
	t.Cleanup(func() { PoolRecovery = old })
	usePort(t, 30124)
	since := time.Now()
	begin := time.Now()
	if !AwaitPortsFreed(context.Background(), since, 30124) {
		t.Errorf("a port used just now: want a wait and a second look")
	}
	if d := time.Since(begin); d < 300*time.Millisecond || d > 5*time.Second {
		t.Errorf("waited %v, want about PoolRecovery (500ms)", d)
	}
	// the harness's own ports: the wait is given back to the run's budget
	// (later checks wait as long whether this one ran first or not)
	if spent, total := passiveWaitSpent.Load(), passiveWaitTotal.Load(); spent != 0 || total <= 0 {
		t.Errorf("after the wait: spent %s (want 0), total %s (want > 0)", time.Duration(spent), time.Duration(total))
	}
	if AwaitPortsFreed(context.Background(), time.Now(), 30124) {
		t.Errorf("a port free before the check looked: want no second look")
	}
	begin = time.Now()
	if AwaitPortsFreed(context.Background(), since, 4) || time.Since(begin) > 100*time.Millisecond {
		t.Errorf("a port never used: want no wait and no second look")
	}
}
