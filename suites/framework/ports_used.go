package framework

// A server may hold a passive port for a while after a check used it: a
// session still waiting out its accept timeout on a listener nobody
// reached (vsftpd's accept_timeout: 60 s, during which it does not read
// the control connection, so closing it does not end the wait), or the
// port of a data connection it closed sitting in TIME_WAIT for 60 s (a
// server binding without SO_REUSEADDR cannot re-use it meanwhile). A
// check judging which ports a server hands out (RANGE-002: both bounds of
// the range) must tell such a port from one the server never hands out.
// The harness notes when it last used each passive port (advertised to it,
// or connected to): in this process, and through a file the worker
// processes of one run share (PortsUsedEnv), since the checks that judge
// the spread run in their own process right after the others.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
)

// PortsUsedEnv names the file the worker processes of one run append
// "port unix-nanoseconds" lines to, one per passive port used (ftpconform
// sets it when it runs workers; unset, only this process's are known).
const PortsUsedEnv = "FTPH_PORTS_USED"

// maxPortsUsedRead caps what LastUse reads of the shared file (a run uses
// passive ports some thousands of times: ~25 bytes each).
const maxPortsUsedRead = 8 << 20

var portsUsed struct {
	sync.Mutex
	last map[int]time.Time
	file *os.File // PortsUsedEnv's, opened at the first use
	path string   // the path file was opened for
}

// notePortUse records that the harness used passive port now (the
// ftp.WithPortObserver of every session).
func notePortUse(port int) {
	now := time.Now()
	portsUsed.Lock()
	defer portsUsed.Unlock()
	if portsUsed.last == nil {
		portsUsed.last = map[int]time.Time{}
	}
	portsUsed.last[port] = now
	if f := portsUsedFile(); f != nil {
		// one short write with O_APPEND: lines of workers do not interleave
		fmt.Fprintf(f, "%d %d\n", port, now.UnixNano())
	}
}

// portsUsedFile is PortsUsedEnv's file, open for appending once per path
// (nil when unset or not writable); portsUsed must be locked.
func portsUsedFile() *os.File {
	path := os.Getenv(PortsUsedEnv)
	if path != portsUsed.path {
		if portsUsed.file != nil {
			portsUsed.file.Close()
		}
		portsUsed.file, portsUsed.path = nil, path
		if path != "" {
			portsUsed.file, _ = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		}
	}
	return portsUsed.file
}

// LastUse is when the harness last used passive port in this run (zero:
// never).
func LastUse(port int) time.Time {
	portsUsed.Lock()
	t := portsUsed.last[port]
	portsUsed.Unlock()
	path := os.Getenv(PortsUsedEnv)
	if path == "" {
		return t
	}
	f, err := os.Open(path)
	if err != nil {
		return t
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, maxPortsUsedRead))
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

// AwaitPortsFreed is for a check that did not see ports it expected a
// server to hand out: when the harness used one of them less than
// PoolRecovery before since (the check's first look), the server may have
// held it all along, so this waits until it is free (within the passive
// waiting budgets) and reports true: the check looks again. A port never
// used, or used long enough before since, was free while the check
// looked: false, nothing to wait for.
func AwaitPortsFreed(ctx context.Context, since time.Time, ports ...int) bool {
	GinkgoHelper()
	var until time.Time
	for _, p := range ports {
		if t := LastUse(p); !t.IsZero() && t.Add(PoolRecovery).After(until) {
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
	GinkgoWriter.Printf("port(s) %s were used less than %s ago and the server may still hold them (a session waiting out its accept timeout, TIME_WAIT): waiting %s, then looking again\n",
		PortList(ports), PoolRecovery.Round(time.Second), got.Round(time.Second))
	// a wait for ports the harness itself kept busy says nothing of the
	// server's pool: given back to the budget (as a recovered wait is),
	// so a later check's waiting does not depend on whether this one ran
	// first (TestSeedsAgree saw RANGE-008 blocked under one seed)
	defer passiveWaitSpent.Add(-int64(got))
	select {
	case <-ctx.Done():
		return false
	case <-time.After(got):
	}
	return true
}
