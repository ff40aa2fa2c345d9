package framework

import (
	"fmt"
	"os"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ftpharness/ftpharness/suites/catalog"
)

// ShardEnv names the part of the suite a worker process runs when
// ftpconform spreads a run over several processes (--workers): "ids:A,B"
// the named checks among those that may share the server with others,
// "serial" the rest, run alone afterwards, and "plan" every check (with NotRunEnv set: listed,
// not run, so the parent learns the checks and their labels). Unset: every
// check.
const ShardEnv = "FTPH_SHARD"

// Shard is what one worker process runs.
type Shard struct {
	Serial bool            // the checks that must have the server to themselves
	Plan   bool            // every check (to be listed, not run)
	IDs    map[string]bool // else: these checks of the others
}

// ShardOf is the share running the checks ids.
func ShardOf(ids ...string) Shard {
	s := Shard{IDs: map[string]bool{}}
	for _, id := range ids {
		s.IDs[id] = true
	}
	return s
}

// String is the ShardEnv spelling of s.
func (s Shard) String() string {
	switch {
	case s.Serial:
		return "serial"
	case s.Plan:
		return "plan"
	default:
		ids := make([]string, 0, len(s.IDs))
		for id := range s.IDs {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		return "ids:" + strings.Join(ids, ",")
	}
}

// ParseShard reads the ShardEnv spelling.
func ParseShard(v string) (Shard, error) {
	switch {
	case v == "serial":
		return Shard{Serial: true}, nil
	case v == "plan":
		return Shard{Plan: true}, nil
	case strings.HasPrefix(v, "ids:"):
		return ShardOf(strings.Split(strings.TrimPrefix(v, "ids:"), ",")...), nil
	}
	return Shard{}, fmt.Errorf("%s=%q: want serial, plan or ids:ID,ID,...", ShardEnv, v)
}

// shard is this process's share, read once at registration; a malformed
// value runs every check and is reported by ShardError.
var shard, shardErr = ParseShard(os.Getenv(ShardEnv))

var sharded = os.Getenv(ShardEnv) != "" && shardErr == nil

// ShardError is the error of a malformed ShardEnv, for the program to
// report before it runs anything.
func ShardError() error {
	if os.Getenv(ShardEnv) == "" {
		return nil
	}
	return shardErr
}

// Alone is a Check decorator for a check that connects to a passive port
// its session gave up (superseded, aborted, already used) to see whether the
// server still listens there: while other sessions run, the kernel may hand
// that port to one of them, and the check would find their listener. With
// --workers it runs with the Serial checks.
var Alone = aloneDecorator{}

type aloneDecorator struct{}

// Slow marks a check that waits on purpose for a while: the server's own
// delays (wrong passwords), a transfer streaming while the check acts
// (ABOR, STAT, QUIT mid-transfer), a stall or an idle timeout. It is the
// label "slow": --workers starts these first, each in its own worker, so
// that they overlap the rest instead of trailing the run, and
// --ginkgo.label-filter='!slow' leaves them out of a quick run.
var Slow = Label(LabelSlow)

// ControlOnly marks a slow check that holds one control session at a time
// and never opens a passive listener, a data connection or a second
// session (SEC-001's wrong passwords): nothing the checks that need the
// server alone count or connect to. It is the label "control-only":
// --workers lets it run on beside them instead of making them wait for it.
var ControlOnly = Label(LabelControlOnly)

// The labels a run spread over workers plans by.
const (
	LabelSlow        = "slow"
	LabelAlone       = "alone" // runs with the server to itself (Serial, Alone, port-range)
	LabelControlOnly = "control-only"
)

// mustRunAlone reports the checks that change or measure server-wide state:
// Serial specs (they exhaust the passive pool), Alone ones, and the passive
// port range area, whose port spread and pool counts another session's ports would
// disturb.
func mustRunAlone(c catalog.Check, decorators []any) bool {
	for _, d := range decorators {
		if d == Serial || d == Alone {
			return true
		}
	}
	for _, a := range c.Areas {
		if a == "port-range" {
			return true
		}
	}
	return false
}

// inShard reports whether this process registers check c.
func inShard(c catalog.Check, decorators []any) bool {
	if !sharded || shard.Plan {
		return true
	}
	if mustRunAlone(c, decorators) {
		return shard.Serial
	}
	return shard.IDs[c.ID]
}
