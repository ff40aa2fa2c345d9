package framework

import (
	"context"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
)

// StaleSettle is how long after its reply a server may still be closing a
// superseded passive listener. Some servers (ftpserverlib) send the new 227
// before closing the old listener, so a connect in the next instant can
// still land; a listener open StaleSettle later is kept, not closing.
var StaleSettle = 250 * time.Millisecond

// ListenerStillOpen waits StaleSettle, then reports whether addr still
// accepts a connection. One probe only: servers that close a listener after
// its first connection (goftp, twisted) would hide a leak from a second.
func ListenerStillOpen(ctx context.Context, addr string) bool {
	time.Sleep(StaleSettle)
	octx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := ftp.DialTCP(octx, addr, nil)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
