package faulty

import (
	"net"
	"testing"
)

func TestListeningProbe(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	lo := net.ParseIP("127.0.0.1")
	for name, get := range map[string]func() (listenSet, error){
		"netlink": func() (listenSet, error) { ls := listenSet{}; return ls, diag(2, ls) },
		"proc":    func() (listenSet, error) { ls := listenSet{}; return ls, procNetTCP("/proc/net/tcp", ls) },
	} {
		ls, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !ls.has(lo, port) {
			t.Errorf("%s: listener on %d not seen", name, port)
		}
	}
	ln.Close()
	ls, err := listening()
	if err != nil {
		t.Fatal(err)
	}
	if ls.has(lo, port) {
		t.Errorf("closed listener on %d still seen", port)
	}
}

func BenchmarkListening(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := listening(); err != nil {
			b.Fatal(err)
		}
	}
}
