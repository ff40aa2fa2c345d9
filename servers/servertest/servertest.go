// Package servertest starts a server of package servers for a test: the
// one helper the tests of loadgen, its HTML report and the binaries share,
// instead of each writing the start, timeout and cleanup again.
package servertest

import (
	"context"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/target"
)

// Start starts server name with spec (20 s to be ready), stops it when the
// test ends and returns its target and declared passive range.
func Start(t testing.TB, name string, spec servers.Spec) (target.Config, target.Range) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run, err := servers.Start(ctx, name, spec)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() { run.Stop() })
	tg := run.Target()
	pr, _ := tg.PasvPorts()
	return tg, pr
}
