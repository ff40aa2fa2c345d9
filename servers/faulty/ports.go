package faulty

import (
	"errors"
	"fmt"
	"github.com/ftpharness/ftpharness/target"

	"github.com/ftpharness/ftpharness/servers"
)

// The proxy's passive range comes from the allocator of package servers
// (servers.ReserveRange), so proxies, servers and containers started at the
// same time, in one process or several, never hand out the same ports.

// lease is the proxy's hold on its passive range.
type lease struct{ *servers.Lease }

func (l *lease) release() {
	if l != nil {
		l.Lease.Release()
	}
}

// allocRange locks n consecutive free ports for the proxy's passive range.
func allocRange(n int) (int, int, *lease, error) {
	lo, hi, l, err := servers.ReserveRange(n)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("faulty: %w", err)
	}
	return lo, hi, &lease{l}, nil
}

// parseRange reads "lo-hi" by the one range syntax (target.ParseRange).
func parseRange(s string) (int, int, error) {
	r, err := target.ParseRange(s)
	if err != nil {
		return 0, 0, fmt.Errorf("faulty: %w", err)
	}
	return r.Lo, r.Hi, nil
}

var errExhausted = errors.New("faulty: passive port pool exhausted")
