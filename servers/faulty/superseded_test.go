package faulty

import (
	"context"
	"net"
	"testing"
	"time"
)

// A connection accepted on a listener whose server port was handed out
// again (a newer binding with the same upstream) is the old listener's and
// is not relayed; one whose port was not handed out again is. While the
// session's passive command is out the answer is awaited first.
func TestSuperseded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &Proxy{ctx: ctx, cfg: config{dialTO: time.Second}, ports: map[int]*plistener{}}
	s := &session{p: p, done: make(chan struct{})}
	up := net.ParseIP("127.0.0.1")
	old := &binding{s: s, upstream: "127.0.0.1:31101", upIP: up, upPort: 31101, gen: 1}
	other := &binding{s: s, upstream: "127.0.0.1:31102", upIP: up, upPort: 31102, gen: 2}
	l758 := &plistener{p: p, port: 758, bindings: []*binding{old}}
	p.ports[758] = l758
	p.ports[757] = &plistener{p: p, port: 757, bindings: []*binding{other}}
	if l758.superseded(old) {
		t.Fatal("superseded with no newer binding for the same server port")
	}

	// the session's next PASV is out; its reply hands out 31101 again
	s.pendingPassive.Add(1)
	start := time.Now()
	go func() {
		time.Sleep(50 * time.Millisecond)
		p.mu.Lock()
		p.ports[756] = &plistener{p: p, port: 756, bindings: []*binding{{s: s, upstream: "127.0.0.1:31101", upIP: up, upPort: 31101, gen: 3}}}
		p.mu.Unlock()
		s.pendingPassive.Add(-1)
	}()
	if !l758.superseded(old) {
		t.Fatal("not superseded although the server handed its port out again")
	}
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Fatalf("decided after %v, before the pending PASV's reply", waited)
	}
	if p.ports[757].superseded(other) {
		t.Fatal("a binding for another server port counts as superseded")
	}
}
