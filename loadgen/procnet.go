package loadgen

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"github.com/ftpharness/ftpharness/target"
)

// listeningIn counts the TCP sockets of this machine listening on a port of
// r (from /proc/net/tcp and tcp6), so exhaust can tell a capacity below the
// declared range apart from ports some other process already holds. -1 if
// it cannot tell.
func listeningIn(r target.Range) int {
	if !r.Set() {
		return -1
	}
	n, ok := 0, false
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		ok = true
		sc := bufio.NewScanner(fh)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[3] != "0A" { // TCP_LISTEN
				continue
			}
			i := strings.LastIndexByte(fields[1], ':')
			if i < 0 {
				continue
			}
			p, err := strconv.ParseUint(fields[1][i+1:], 16, 16)
			if err == nil && int(p) >= r.Lo && int(p) <= r.Hi {
				n++
			}
		}
		fh.Close()
	}
	if !ok {
		return -1
	}
	return n
}
