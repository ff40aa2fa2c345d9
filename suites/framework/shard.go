package framework

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ftpharness/ftpharness/suites/catalog"
)

// ShardEnv names the part of the suite a worker process runs when
// ftpconform spreads a run over several processes (--workers): "i/n" is
// the i-th (0-based) of n shares of the checks that may share the server
// with others, "serial" is the rest, run alone afterwards. Unset: every
// check.
const ShardEnv = "FTPH_SHARD"

// Shard is what one worker process runs.
type Shard struct {
	Serial bool // the checks that must have the server to themselves
	I, N   int  // else: share I of N of the others
}

// String is the ShardEnv spelling of s.
func (s Shard) String() string {
	if s.Serial {
		return "serial"
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// ParseShard reads the ShardEnv spelling.
func ParseShard(v string) (Shard, error) {
	if v == "serial" {
		return Shard{Serial: true}, nil
	}
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("%s=%q: want serial or i/n with 0 <= i < n", ShardEnv, v)
	}
	return Shard{I: i, N: n}, nil
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

// shareIndex counts the shareable checks in registration order (file order,
// then order in the file: the same in every worker).
var shareIndex int

// Alone is a Check decorator for a check that connects to a passive port
// its session gave up (superseded, aborted, already used) to see whether the
// server still listens there: while other sessions run, the kernel may hand
// that port to one of them, and the check would find their listener. With
// --workers it runs with the Serial checks.
var Alone = aloneDecorator{}

type aloneDecorator struct{}

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
	if !sharded {
		return true
	}
	if mustRunAlone(c, decorators) {
		return shard.Serial
	}
	i := shareIndex
	shareIndex++
	return !shard.Serial && i%shard.N == shard.I
}
