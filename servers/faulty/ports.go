package faulty

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/ftpharness/ftpharness/servers"
)

// The proxy's passive range is taken with the same advisory locks as
// package servers (aligned chunks of chunk ports, files "pasv-<start>" under
// servers.LockDir()), so proxies and servers started at the same time, in
// one process or several, never hand out the same ports.
const (
	rangeMin = servers.PasvPortMin
	rangeMax = servers.PasvPortMax
	chunk    = 10
)

type lease struct{ files []*os.File }

func (l *lease) release() {
	if l == nil {
		return
	}
	for _, f := range l.files {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}
	l.files = nil
}

func tryLock(name string) (*os.File, error) {
	dir := servers.LockDir()
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	_ = os.Chmod(dir, 0o1777)
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	_ = f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return f, nil
}

func portFree(port int) bool {
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func ephemeralRange() (lo, hi int) {
	lo, hi = 32768, 60999
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return
	}
	f := strings.Fields(string(b))
	if len(f) == 2 {
		a, e1 := strconv.Atoi(f[0])
		c, e2 := strconv.Atoi(f[1])
		if e1 == nil && e2 == nil {
			lo, hi = a, c
		}
	}
	return
}

// allocRange locks n consecutive free ports for the proxy's passive range.
func allocRange(n int) (int, int, *lease, error) {
	if n <= 0 {
		n = servers.DefaultRangeSize
	}
	width := (n + chunk - 1) / chunk * chunk
	elo, ehi := ephemeralRange()
	var all, outside []int
	for s := rangeMin; s+width-1 <= rangeMax; s += chunk {
		all = append(all, s)
		if s+width-1 < elo || s > ehi {
			outside = append(outside, s)
		}
	}
	cands := all
	if len(outside) >= 50 {
		cands = outside
	}
	rand.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	for i, s := range cands {
		if i >= 200 {
			break
		}
		l := &lease{}
		ok := true
		for c := 0; c < width/chunk; c++ {
			f, err := tryLock("pasv-" + strconv.Itoa(s+c*chunk))
			if err != nil {
				ok = false
				break
			}
			l.files = append(l.files, f)
		}
		for p := s; ok && p < s+n; p++ {
			ok = portFree(p)
		}
		if !ok {
			l.release()
			continue
		}
		return s, s + n - 1, l, nil
	}
	return 0, 0, nil, fmt.Errorf("faulty: no free block of %d passive ports in %d-%d", n, rangeMin, rangeMax)
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
