package framework

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/ftpharness/ftpharness/ftp"
)

// StoppedTimeouts is how many checks in a row may fail on an operation
// timeout (no greeting, no reply to a command) before the server is
// declared to have stopped answering and the remaining checks are skipped:
// without it a dead server costs checks × --ftp.timeout and blames every
// check on the server.
var StoppedTimeouts = 3

// stoppedPrefix starts the skip reason of every check after the breaker
// tripped (suites/report reads it to mark the run as stopped).
const stoppedPrefix = "server stopped answering after "

// EntryStoppedStreak, on the check that tripped the breaker, lists the
// checks of the streak in order ("A B C"): the server stopped answering
// during A, and B and C only waited for it too, so suites/report keeps A's
// failure and makes B's and C's skips (one defect, one failure).
const EntryStoppedStreak = "ftpharness:stopped-streak"

var liveness struct {
	mu          sync.Mutex
	timeouts    int               // consecutive checks that ended waiting for the server
	streak      []string          // their IDs, in order
	stopped     string            // skip reason once tripped
	transcripts []*ftp.Transcript // sessions of the running check, in dial order
}

// watchLiveness records the transcript of a connection attempt of the
// running check (the one hook, called from TryDial).
func watchLiveness(conn *ftp.Conn, err error) {
	tr := ftp.TranscriptOf(err)
	if conn != nil {
		tr = conn.Transcript()
	}
	if tr == nil {
		return
	}
	liveness.mu.Lock()
	liveness.transcripts = append(liveness.transcripts, tr)
	liveness.mu.Unlock()
}

// NotRunEnv, set for a worker process of a run spread over workers
// (ShardEnv), is the reason every check of its share is skipped without
// touching the server: another worker found the server stopped answering,
// or the run was interrupted, before this share started. Its report still
// lists every check of the share, with that reason.
const NotRunEnv = "FTPH_NOT_RUN"

// beginLiveness is called at the start of every check: it skips the check
// when the server already stopped answering, and otherwise arranges for
// the check's sessions to be judged after all its other cleanup ran.
func beginLiveness(id string) {
	liveness.mu.Lock()
	stopped := liveness.stopped
	liveness.transcripts = nil
	liveness.mu.Unlock()
	if stopped != "" {
		Skip(stopped)
	}
	if reason := os.Getenv(NotRunEnv); reason != "" {
		Skip(reason)
	}
	DeferCleanup(func() { endLiveness(id, CurrentSpecReport().State) })
}

// endLiveness judges the check that just ran. A reply from the server
// resets the count; a check that failed and whose last exchange was a
// timeout adds one (a passing check's trailing timeouts are deliberate
// waits for silence). When the count reaches StoppedTimeouts, one fresh
// connection confirms before the breaker trips, so a server that merely
// ignores some commands keeps its remaining checks.
func endLiveness(id string, state types.SpecState) {
	if state.Is(types.SpecStateInterrupted | types.SpecStateAborted | types.SpecStateSkipped) {
		return
	}
	liveness.mu.Lock()
	trs := liveness.transcripts
	liveness.transcripts = nil
	liveness.mu.Unlock()
	replied, trailing := lastExchange(trs)
	liveness.mu.Lock()
	defer liveness.mu.Unlock()
	failed := state.Is(types.SpecStateFailureStates)
	liveness.timeouts = countTimeouts(liveness.timeouts, failed, replied, trailing)
	liveness.streak = extendStreak(liveness.streak, id, failed && trailing, liveness.timeouts)
	if liveness.timeouts >= StoppedTimeouts && liveness.stopped == "" {
		if answers() {
			liveness.timeouts, liveness.streak = 0, nil
			return
		}
		liveness.stopped = stoppedPrefix + id
		AddReportEntry(EntryStoppedStreak, strings.Join(liveness.streak, " "), ReportEntryVisibilityNever)
		GinkgoWriter.Printf("%s: %d checks in a row timed out waiting for the server, and a fresh connection got no answer either; the remaining checks are skipped\n", liveness.stopped, liveness.timeouts)
	}
}

// countTimeouts is the new count of checks in a row that ended waiting
// for the server, after one that failed (or not), got a reply (or not) and
// ended on a timeout (or not).
func countTimeouts(n int, failed, replied, trailingTimeout bool) int {
	switch {
	case failed && trailingTimeout && replied:
		return 1
	case failed && trailingTimeout:
		return n + 1
	case replied:
		return 0
	}
	return n
}

// extendStreak is the streak of checks in a row that ended waiting for
// the server, after check id (counted: it failed on a trailing timeout)
// left the count at n: a count of 1 starts it again at id (the first such
// check, or one that got replies before its timeout), a larger one
// appends id, and a reply (0) ends it.
func extendStreak(streak []string, id string, counted bool, n int) []string {
	switch {
	case n == 0:
		return nil
	case counted && n == 1:
		return []string{id}
	case counted:
		return append(streak, id)
	}
	return streak
}

// lastExchange reads the check's transcripts in order: whether the server
// sent anything, and whether the last event was a timeout waiting for it.
func lastExchange(trs []*ftp.Transcript) (replied, timedOut bool) {
	for _, tr := range trs {
		for _, e := range tr.Entries() {
			switch {
			case e.Dir == ftp.Received:
				replied, timedOut = true, false
			case e.Dir == ftp.Note && isWaitTimeout(e.Text):
				timedOut = true
			}
		}
	}
	return replied, timedOut
}

func isWaitTimeout(note string) bool {
	if !strings.HasPrefix(note, "read failed:") && !strings.HasPrefix(note, "connect failed:") {
		return false
	}
	return strings.Contains(note, "timeout") || strings.Contains(note, "deadline exceeded")
}

// answers opens one fresh control connection: any reply (a greeting, even
// a 421 or a malformed one) means the server is still there. It sends no
// command, so a server that stalls on some command (NOOP, PASV) is not
// taken for one that went away.
func answers() bool {
	c := Config()
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	conn, err := dialTarget(ctx)
	if err == nil {
		conn.Close()
		return true
	}
	replied, _ := lastExchange([]*ftp.Transcript{ftp.TranscriptOf(err)})
	return replied
}

// Alive reports whether a fresh session can log in and get 200 for NOOP,
// retrying for up to d (servers that fork per session may briefly refuse
// while they reap children).
func Alive(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	var last error
	for {
		c, err := rawLogin(ctx)
		if err == nil {
			octx, cancel := Ctx(ctx)
			r, err2 := c.Cmd(octx, "NOOP")
			cancel()
			c.Close()
			if err2 == nil && r.Code == 200 {
				return nil
			}
			if err2 != nil {
				err = err2
			} else {
				err = fmt.Errorf("NOOP answered %s", r)
			}
		}
		last = err
		if time.Now().After(deadline) || ctx.Err() != nil {
			return last
		}
		time.Sleep(200 * time.Millisecond)
	}
}
