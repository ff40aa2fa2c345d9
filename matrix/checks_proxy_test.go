package matrix_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/servers/faulty"
	"github.com/ftpharness/ftpharness/target"
)

// Checks run through the fault proxy in front of a real server (the tests
// named checks_*): each test starts its own server and proxy, and the
// suites run in a child process (runChecks) focused on the checks
// concerned.

// proxied starts server (stopped when the test ends) and a proxy with
// opts in front of it, and returns the proxy and the target to test.
func proxied(t *testing.T, server string, opts ...faulty.Option) (*faulty.Proxy, target.Config) {
	t.Helper()
	return proxiedSpec(t, server, servers.Spec{}, opts...)
}

// proxiedSpec is proxied with the server started from spec (its Root and
// StateDir are the test's own).
func proxiedSpec(t *testing.T, server string, spec servers.Spec, opts ...faulty.Option) (*faulty.Proxy, target.Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	root := t.TempDir()
	os.Chmod(root, 0o777)
	spec.Root, spec.StateDir = root, t.TempDir()
	r, err := servers.Start(ctx, server, spec)
	if err != nil {
		if errors.Is(err, servers.ErrNotInstalled) {
			t.Skipf("%s: %v", server, err)
		}
		t.Fatalf("start %s: %v", server, err)
	}
	t.Cleanup(func() { r.Stop() })
	pctx, pcancel := context.WithCancel(context.Background())
	p, err := faulty.StartFor(pctx, r.Target(), append([]faulty.Option{faulty.WithLogf(t.Logf)}, opts...)...)
	if err != nil {
		pcancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { pcancel(); p.Close() })
	return p, p.Target(r.Target())
}

// withFault is proxied with the one fault name in front of ftpserverlib.
func withFault(t *testing.T, name string) (*faulty.Proxy, target.Config) {
	t.Helper()
	return proxied(t, "ftpserverlib", faulty.WithFaults(faulty.MustLookup(name)))
}
