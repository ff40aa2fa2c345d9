package loadgen

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// DefaultCleanupMax bounds the files Cleanup removes in one run (names
// beyond it are counted as left).
var DefaultCleanupMax = 10000

// storName is the file session idx uploads to. A shard's sessions are
// numbered from 0 like any run's, so a sharded run puts the shard index
// in the name: shards never write (or remove) each other's files.
func (a *Attacker) storName(idx int) string {
	if a.shard.Sharded() {
		return fmt.Sprintf("ftpload-stor-%d-%d.bin", a.shard.Index, idx)
	}
	return fmt.Sprintf("ftpload-stor-%d.bin", idx)
}

// markStored records that session idx sent a STOR (its file may exist
// from then on). The record is one flag per session, allocated once per
// loop: memory is bounded by the session count, not the operations.
func (a *Attacker) markStored(idx int) {
	if s := a.stored.Load(); s != nil && idx >= 0 && idx < len(*s) {
		(*s)[idx].Store(true)
	}
}

// resetStored allocates the per-session STOR flags for a loop of n sessions.
func (a *Attacker) resetStored(n int) {
	s := make([]atomic.Bool, n)
	a.stored.Store(&s)
}

// UploadedFiles lists the files this attacker created on the server: the
// RETR file Prepare uploaded (not one that was already there with the
// right size, nor one named by WithFile; nor, in a sharded run, shard 0's
// upload, which the other shards may still be reading) and the STOR file
// of each session that sent a STOR. The names are derived from session
// indices, so the list is at most one name per session plus one.
func (a *Attacker) UploadedFiles() []string {
	var names []string
	if a.uploaded != "" && !a.shard.Sharded() {
		names = append(names, a.uploaded)
	}
	if s := a.stored.Load(); s != nil {
		for i := range *s {
			if (*s)[i].Load() {
				names = append(names, a.storName(i))
			}
		}
	}
	return names
}

// CleanupResult is what Cleanup did.
type CleanupResult struct {
	Files   int    // files this run uploaded
	Removed int    // of them removed
	Err     string // the first failure, "" when all were removed
}

// String is the result as one line ("" when there was nothing to do or
// everything was removed).
func (c CleanupResult) String() string {
	if c.Err == "" {
		return ""
	}
	return fmt.Sprintf("removed %d of the %d files this run uploaded; %d left (first failure: %s)",
		c.Removed, c.Files, c.Files-c.Removed, TermSafe(c.Err))
}

// Cleanup removes the files this run uploaded (UploadedFiles): DELE each
// on one fresh control session. It is bounded by ctx, by twice the step
// timeout in all (each step also by the timeout) and by DefaultCleanupMax
// names; it stops at the first failure of the session itself and reports
// rather than returns errors: cleaning up never fails a run.
func (a *Attacker) Cleanup(ctx context.Context) CleanupResult {
	names := a.UploadedFiles()
	res := CleanupResult{Files: len(names)}
	if len(names) == 0 {
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, a.cleanupBudget())
	defer cancel()
	d := &ftpDriver{a: a, src: a.source(0)}
	r := d.open(ctx)
	if !r.OK() {
		res.Err = fmt.Sprintf("session: %s: %s", r.FailedPhase, a.hidePassword(firstNonEmpty(r.Reply, r.Err)))
		return res
	}
	defer func() {
		d.c.send("QUIT")
		d.close()
	}()
	for i, name := range names {
		if i >= DefaultCleanupMax {
			if res.Err == "" {
				res.Err = fmt.Sprintf("more than %d files (the cleanup's bound)", DefaultCleanupMax)
			}
			break
		}
		if ctx.Err() != nil {
			if res.Err == "" {
				res.Err = fmt.Sprintf("cleanup stopped after %v", a.cleanupBudget())
			}
			break
		}
		rep, err := d.c.cmd("DELE " + name)
		switch {
		case err != nil:
			if res.Err == "" {
				res.Err = fmt.Sprintf("DELE %s: %v", name, err)
			}
			return res
		case rep.Code/100 == 2:
			res.Removed++
		case res.Err == "":
			res.Err = fmt.Sprintf("DELE %s: %s", name, replyLine(rep))
		}
	}
	return res
}

// cleanupBudget is how long Cleanup may take in all.
func (a *Attacker) cleanupBudget() time.Duration { return 2 * a.timeout }
