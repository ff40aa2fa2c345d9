package servers

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
	"time"
)

// Port allocation.
//
// Several servers in one process and several `go test` package processes
// may allocate ports at the same time, so a port is taken only when
//
//  1. an advisory lock (flock) on a file under LockDir() is obtained for it,
//     held until the server stops (a crashed process drops its locks), and
//  2. binding it on 127.0.0.1 succeeds.
//
// Control ports come from ControlPortMin..ControlPortMax. Passive ranges come
// from PasvPortMin..PasvPortMax, avoiding the kernel's ephemeral range
// (net.ipv4.ip_local_port_range) when enough room is left, so that outgoing
// client connections never sit on a port a server is about to listen on.
// Passive blocks are locked in chunks of pasvChunk ports, aligned, so that
// blocks of different sizes never overlap.
const (
	ControlPortMin = 20000
	ControlPortMax = 29999
	PasvPortMin    = 30000
	PasvPortMax    = 59999
	pasvChunk      = 10
)

// LockDir is where the port lock files live.
func LockDir() string { return filepath.Join(os.TempDir(), "ftpharness-ports") }

// Lease holds the advisory locks (flocks) of reserved ports until Release.
// Everything in this module that needs host ports (the launchers here, the
// fault proxy of servers/faulty, the container tests publishing ports with
// Docker) takes them through a Lease, so that parallel tests in one process
// or in several never hand out the same port.
type Lease struct {
	files []*os.File
}

// portLease is the name the launchers of this package use.
type portLease = Lease

// NewLease returns an empty lease; add ports with ControlPort and Range.
func NewLease() *Lease { return &Lease{} }

func (l *Lease) add(f *os.File) { l.files = append(l.files, f) }

// Release drops every lock of l. Safe on a nil or released lease.
func (l *Lease) Release() {
	if l == nil {
		return
	}
	for _, f := range l.files {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}
	l.files = nil
}

// ControlPort reserves one free port in ControlPortMin..ControlPortMax
// under l.
func (l *Lease) ControlPort() (int, error) { return allocControlPort(l) }

// Range reserves n consecutive free ports (DefaultRangeSize when n <= 0)
// in PasvPortMin..PasvPortMax under l and returns the first and last.
func (l *Lease) Range(n int) (lo, hi int, err error) { return allocPasvRange(n, l) }

// ReservePorts reserves n free control ports (not necessarily consecutive).
// The caller releases the lease when the ports are no longer in use.
func ReservePorts(n int) ([]int, *Lease, error) {
	l := NewLease()
	out := make([]int, 0, n)
	for i := 0; i < n; i++ {
		p, err := l.ControlPort()
		if err != nil {
			l.Release()
			return nil, nil, err
		}
		out = append(out, p)
	}
	return out, l, nil
}

// ReserveRange reserves n consecutive free ports for a passive range.
// The caller releases the lease when the range is no longer in use.
func ReserveRange(n int) (lo, hi int, l *Lease, err error) {
	l = NewLease()
	lo, hi, err = l.Range(n)
	if err != nil {
		l.Release()
		return 0, 0, nil, err
	}
	return lo, hi, l, nil
}

func tryLock(name string) (*os.File, error) {
	dir := LockDir()
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

// portFree reports whether 127.0.0.1:port, and [::1]:port where IPv6 is
// up, can be bound right now (a server may listen on either).
func portFree(port int) bool {
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	ln.Close()
	ln6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port)))
	if err != nil {
		return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT) // no IPv6 here
	}
	ln6.Close()
	return true
}

// allocControlPort picks and locks a free control port.
func allocControlPort(lease *portLease) (int, error) {
	span := ControlPortMax - ControlPortMin + 1
	start := rand.IntN(span)
	for i := 0; i < 400; i++ {
		p := ControlPortMin + (start+i*7919)%span
		f, err := tryLock("ctl-" + strconv.Itoa(p))
		if err != nil {
			continue
		}
		if !portFree(p) {
			f.Close()
			continue
		}
		lease.add(f)
		return p, nil
	}
	return 0, errors.New("servers: no free control port in 20000-29999")
}

// ephemeralRange reads the kernel's local port range (default 32768-60999).
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

// pasvCandidates returns the aligned chunk starts usable for a block of n
// ports: those outside the kernel's ephemeral range first (no client
// socket can take a port there), shuffled, then the others, shuffled. The
// part outside is small (30000-32767 by default): a few large blocks, or
// small ones spread over it, fill it while other servers run.
func pasvCandidates(n int) []int {
	chunks := (n + pasvChunk - 1) / pasvChunk
	width := chunks * pasvChunk
	elo, ehi := ephemeralRange()
	var outside, inside []int
	for s := PasvPortMin; s+width-1 <= PasvPortMax; s += pasvChunk {
		if s+width-1 < elo || s > ehi {
			outside = append(outside, s)
		} else {
			inside = append(inside, s)
		}
	}
	for _, c := range [][]int{outside, inside} {
		rand.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
	}
	return append(outside, inside...)
}

// PasvRangeWait bounds how long a server start waits for a free block of
// passive ports when none is free now: blocks free up as other servers
// stop (a make test runs several lanes of servers side by side, and a
// 400-port block for goftp can be scarce while they run).
var PasvRangeWait = 90 * time.Second

// WaitNotice, when set, is told once per wait when a server start has to
// wait for another running server (a passive block, a shared account's
// home), so a command line can say why it has not started yet instead of
// hanging silently. ftpserve sets it; tests leave it nil.
var WaitNotice func(why string)

// noticeWait tells WaitNotice why a start waits.
func noticeWait(why string) {
	if WaitNotice != nil {
		WaitNotice(why)
	}
}

// awaitPasvRange is allocPasvRange, tried again every 2 s (PasvRangeWait
// at most) while no block is free.
func awaitPasvRange(n int, lease *portLease) (int, int, error) {
	deadline := time.Now().Add(PasvRangeWait)
	for tries := 0; ; tries++ {
		lo, hi, err := allocPasvRange(n, lease)
		if err == nil || time.Now().After(deadline) {
			return lo, hi, err
		}
		if tries == 0 {
			noticeWait(fmt.Sprintf("no free block of %d passive ports: waiting up to %s for other servers to stop", n, PasvRangeWait))
		}
		time.Sleep(2 * time.Second)
	}
}

// allocPasvRange picks and locks n consecutive free ports.
func allocPasvRange(n int, lease *portLease) (int, int, error) {
	if n <= 0 {
		n = DefaultRangeSize
	}
	cands := pasvCandidates(n)
	if len(cands) == 0 {
		return 0, 0, fmt.Errorf("servers: passive range of %d ports does not fit", n)
	}
	chunks := (n + pasvChunk - 1) / pasvChunk
	for i, s := range cands {
		if i >= 400 {
			break
		}
		var got []*os.File
		ok := true
		for c := 0; c < chunks; c++ {
			f, err := tryLock("pasv-" + strconv.Itoa(s+c*pasvChunk))
			if err != nil {
				ok = false
				break
			}
			got = append(got, f)
		}
		if ok {
			for p := s; p < s+n; p++ {
				if !portFree(p) {
					ok = false
					break
				}
			}
		}
		if !ok {
			for _, f := range got {
				f.Close()
			}
			continue
		}
		for _, f := range got {
			lease.add(f)
		}
		return s, s + n - 1, nil
	}
	return 0, 0, fmt.Errorf("servers: no free block of %d passive ports in %d-%d", n, PasvPortMin, PasvPortMax)
}
