package framework

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// dataConn opens a TCP connection to a loopback listener and notes it as
// a data connection; it returns the listener's port.
func dataConn(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	noteDataConn(nc)
	return ln.Addr().(*net.TCPAddr).Port
}

// The ports of data connections are known in this process and, through
// DataPortsEnv, in the other workers of a run: the latest time counts.
func TestLastDataAcrossWorkers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data-ports")
	t.Setenv(DataPortsEnv, file)
	port := dataConn(t)
	mine := LastData(port)
	if mine.IsZero() || time.Since(mine) > time.Minute {
		t.Fatalf("LastData(%d) = %v after a data connection now", port, mine)
	}
	// another worker's later connection to the same port, and noise
	later := time.Now().Add(2 * time.Second)
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("the data connection was not written to %s: %v", DataPortsEnv, err)
	}
	fmt.Fprintf(f, "%d %d\ngarbage\n%d x\n1 %d\n", port, later.UnixNano(), port, later.Add(time.Hour).UnixNano())
	f.Close()
	if got := LastData(port); !got.Equal(later) {
		t.Errorf("LastData(%d) = %v, want the other worker's %v", port, got, later)
	}
	if got := LastData(2); !got.IsZero() {
		t.Errorf("LastData of a port that never carried data = %v, want zero", got)
	}
}

// A port that carried data just before the check looked is waited for
// (then looked at again); one that never did, or cooled before the check
// looked, is not: a server that never hands out its upper bound costs no
// wait.
func TestAwaitPortsCooled(t *testing.T) {
	setWait(t, 10*time.Second, 30*time.Second, "30000-30019")
	t.Setenv(DataPortsEnv, "")
	old := PoolRecovery
	PoolRecovery = 500 * time.Millisecond
	t.Cleanup(func() { PoolRecovery = old })
	port := dataConn(t)
	since := time.Now()
	begin := time.Now()
	if !AwaitPortsCooled(context.Background(), since, port) {
		t.Errorf("a port that carried data just now: want a wait and a second look")
	}
	if d := time.Since(begin); d < 300*time.Millisecond || d > 5*time.Second {
		t.Errorf("waited %v, want about PoolRecovery (500ms)", d)
	}
	if AwaitPortsCooled(context.Background(), time.Now(), port) {
		t.Errorf("a port that cooled before the check looked: want no second look")
	}
	begin = time.Now()
	if AwaitPortsCooled(context.Background(), since, 1) || time.Since(begin) > 100*time.Millisecond {
		t.Errorf("a port that never carried data: want no wait and no second look")
	}
}
