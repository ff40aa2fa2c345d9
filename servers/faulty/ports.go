package faulty

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

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

// parseRange reads "lo-hi".
func parseRange(s string) (int, int, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return 0, 0, fmt.Errorf("faulty: range %q is not lo-hi", s)
	}
	lo, e1 := strconv.Atoi(strings.TrimSpace(a))
	hi, e2 := strconv.Atoi(strings.TrimSpace(b))
	if e1 != nil || e2 != nil || lo < 1 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("faulty: range %q is not lo-hi", s)
	}
	return lo, hi, nil
}

var errExhausted = errors.New("faulty: passive port pool exhausted")
