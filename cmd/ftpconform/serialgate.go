package main

import (
	"sync"

	"github.com/ftpharness/ftpharness/suites/framework"
)

// serialGate says when the serial share may start: once every share has
// ended but those made only of control-only checks (one session each, no
// passive port: nothing the serial checks count or connect to), which run
// on beside it.
type serialGate struct {
	beside  map[string]bool
	mu      sync.Mutex
	waitFor int  // shares still running that the serial one waits for
	broken  bool // one of them wrote no report: the run ends with its error
	open    chan struct{}
}

func newSerialGate(shares []framework.Shard, checks []plannedCheck) *serialGate {
	g := &serialGate{beside: map[string]bool{}, open: make(chan struct{})}
	for _, c := range checks {
		if c.ControlOnly && !c.Alone {
			g.beside[c.ID] = true
		}
	}
	for _, s := range shares {
		if !onlyOf(s, g.beside) {
			g.waitFor++
		}
	}
	if g.waitFor == 0 {
		close(g.open)
	}
	return g
}

// done notes share s ended (err: it wrote no report).
func (g *serialGate) done(s framework.Shard, err error) {
	if onlyOf(s, g.beside) {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.broken = g.broken || err != nil
	if g.waitFor--; g.waitFor == 0 {
		close(g.open)
	}
}

// wait blocks until the serial share may start and reports whether it
// should (not after a worker that wrote no report).
func (g *serialGate) wait() bool {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return !g.broken
}

// onlyOf reports whether every check of share s is in ids.
func onlyOf(s framework.Shard, ids map[string]bool) bool {
	if len(s.IDs) == 0 {
		return false
	}
	for id := range s.IDs {
		if !ids[id] {
			return false
		}
	}
	return true
}
