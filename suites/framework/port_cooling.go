package framework

// A server closes the data connection after a transfer, so the passive
// port it listened on sits in TIME_WAIT on its side for 60 s (Linux), and
// a server that binds its listener without SO_REUSEADDR cannot hand that
// port out meanwhile. A check judging which ports a server hands out
// (RANGE-002: both bounds of the range) must tell such a port from one the
// server never uses. The harness notes when each passive port last carried
// a data connection: in this process, and through a file the worker
// processes of one run share (DataPortsEnv), since the checks that judge
// the spread run in their own process right after the others' transfers.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
)

// DataPortsEnv names the file the worker processes of one run append
// "port unix-nanoseconds" lines to, one per data connection (ftpconform
// sets it when it runs workers; unset, only this process's are known).
const DataPortsEnv = "FTPH_DATA_PORTS"

// maxDataPortsRead caps what LastData reads of the shared file (a run
// makes a few thousand data connections at most: ~25 bytes each).
const maxDataPortsRead = 8 << 20

var dataPorts struct {
	sync.Mutex
	last map[int]time.Time
}

// noteDataConn records that nc, a data connection the harness opened,
// reached its remote port now (ftp.WithDataObserver).
func noteDataConn(nc net.Conn) {
	a, ok := nc.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return
	}
	now := time.Now()
	dataPorts.Lock()
	if dataPorts.last == nil {
		dataPorts.last = map[int]time.Time{}
	}
	dataPorts.last[a.Port] = now
	dataPorts.Unlock()
	if path := os.Getenv(DataPortsEnv); path != "" {
		// one short write with O_APPEND: lines of workers do not interleave
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
			fmt.Fprintf(f, "%d %d\n", a.Port, now.UnixNano())
			f.Close()
		}
	}
}

// LastData is when port last carried a data connection the harness opened
// in this run (zero: never).
func LastData(port int) time.Time {
	dataPorts.Lock()
	t := dataPorts.last[port]
	dataPorts.Unlock()
	path := os.Getenv(DataPortsEnv)
	if path == "" {
		return t
	}
	f, err := os.Open(path)
	if err != nil {
		return t
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, maxDataPortsRead))
	for sc.Scan() {
		p, ns, ok := strings.Cut(sc.Text(), " ")
		if p != strconv.Itoa(port) || !ok {
			continue
		}
		if n, err := strconv.ParseInt(ns, 10, 64); err == nil && time.Unix(0, n).After(t) {
			t = time.Unix(0, n)
		}
	}
	return t
}

// AwaitPortsCooled is for a check that did not see ports it expected a
// server to hand out: when one of them carried data less than
// PoolRecovery before since (the check's first look), it may have been
// cooling on the server's side all along, so this waits until it is
// reusable (within the passive waiting budgets) and reports true: the
// check looks again. A port that never carried data, or cooled before
// since, was free while the check looked: false, nothing to wait for.
func AwaitPortsCooled(ctx context.Context, since time.Time, ports ...int) bool {
	GinkgoHelper()
	var until time.Time
	for _, p := range ports {
		if t := LastData(p); !t.IsZero() && t.Add(PoolRecovery).After(until) {
			until = t.Add(PoolRecovery)
		}
	}
	if !until.After(since) {
		return false
	}
	d := time.Until(until)
	if d <= 0 {
		return true
	}
	got := takeWait(d)
	if got <= 0 {
		return false
	}
	GinkgoWriter.Printf("port(s) %s carried data less than %s ago and may still be cooling (TIME_WAIT on the server's side): waiting %s, then looking again\n",
		PortList(ports), PoolRecovery.Round(time.Second), got.Round(time.Second))
	select {
	case <-ctx.Done():
		return false
	case <-time.After(got):
	}
	return true
}
