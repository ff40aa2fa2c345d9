package faulty

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/target"
)

// upstreams are started once per test binary and shared (each test uses
// its own file names).
var (
	upMu   sync.Mutex
	upRun  = map[string]servers.Running{}
	upDirs []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	upMu.Lock()
	for _, r := range upRun {
		r.Stop()
	}
	for _, d := range upDirs {
		os.RemoveAll(d)
	}
	upMu.Unlock()
	os.Exit(code)
}

func upstream(t *testing.T, name string) target.Config {
	t.Helper()
	return upstreamTLS(t, name, "")
}

// upstreamTLS is upstream with FTPS in mode ("": off).
func upstreamTLS(t *testing.T, name, mode string) target.Config {
	t.Helper()
	return upstreamSpec(t, name, servers.Spec{TLS: mode})
}

// upstreamSpec is upstream started with spec's TLS mode and listen
// address (shared per server, mode and address).
func upstreamSpec(t *testing.T, name string, spec servers.Spec) target.Config {
	t.Helper()
	upMu.Lock()
	defer upMu.Unlock()
	key := name + "+" + spec.TLS + "+" + spec.ListenAddress
	if r, ok := upRun[key]; ok {
		return r.Target()
	}
	root, err := os.MkdirTemp("", "faulty-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(root, 0o777)
	state := filepath.Join(os.TempDir(), filepath.Base(root)+"-state")
	upDirs = append(upDirs, root, state)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	spec.Root, spec.StateDir = root, state
	r, err := servers.Start(ctx, name, spec)
	if err != nil {
		if strings.Contains(err.Error(), "not installed") || strings.Contains(err.Error(), "not found") || strings.Contains(err.Error(), "no TLS variant") {
			t.Skipf("%s: %v", name, err)
		}
		t.Fatalf("start %s: %v", name, err)
	}
	upRun[key] = r
	return r.Target()
}

// proxied starts a proxy with faults in front of the shared ftpserverlib.
func proxied(t *testing.T, server string, opts ...Option) (*Proxy, target.Config) {
	t.Helper()
	return proxiedTLS(t, server, "", opts...)
}

// proxiedTLS is proxied in front of the server with FTPS in mode ("": off).
func proxiedTLS(t *testing.T, server, mode string, opts ...Option) (*Proxy, target.Config) {
	t.Helper()
	return proxiedSpec(t, server, servers.Spec{TLS: mode}, opts...)
}

// proxiedSpec is proxied in front of the server started with spec's TLS
// mode and listen address.
func proxiedSpec(t *testing.T, server string, spec servers.Spec, opts ...Option) (*Proxy, target.Config) {
	t.Helper()
	up := upstreamSpec(t, server, spec)
	ctx, cancel := context.WithCancel(context.Background())
	p, err := StartFor(ctx, up, append([]Option{WithLogf(t.Logf)}, opts...)...)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); p.Close() })
	return p, p.Target(up)
}

func withFault(t *testing.T, name string, opts ...Option) (*Proxy, target.Config) {
	t.Helper()
	return proxied(t, "ftpserverlib", append([]Option{WithFaults(MustLookup(name))}, opts...)...)
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, tg target.Config, opts ...ftp.Option) *ftp.Conn {
	t.Helper()
	c, err := ftp.Dial(tctx(t), tg.Addr, append([]ftp.Option{ftp.WithTimeout(5 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatalf("dial %s: %v", tg.Addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func login(t *testing.T, tg target.Config, opts ...ftp.Option) *ftp.Conn {
	t.Helper()
	c := dial(t, tg, opts...)
	if err := c.Login(tctx(t), tg.User, tg.Password); err != nil {
		t.Fatalf("login: %v\n%s", err, c.Transcript())
	}
	if _, err := c.Expect(tctx(t), []int{200}, "TYPE", "I"); err != nil {
		t.Fatalf("TYPE I: %v", err)
	}
	return c
}

// xfer runs one passive transfer.
func xfer(t *testing.T, c *ftp.Conn, epsv bool, cmd string, up []byte) (ftp.TransferResult, []byte) {
	t.Helper()
	ctx := tctx(t)
	nc, _, err := c.OpenPassive(ctx, epsv, ftp.DataOptions{})
	if err != nil {
		t.Fatalf("%s: passive: %v\n%s", cmd, err, c.Transcript())
	}
	var sink bytes.Buffer
	var r *bytes.Reader
	if up != nil {
		r = bytes.NewReader(up)
	}
	var res ftp.TransferResult
	if r != nil {
		res = c.Transfer(ctx, nc, cmd, r, &sink)
	} else {
		res = c.Transfer(ctx, nc, cmd, nil, &sink)
	}
	return res, sink.Bytes()
}

func payload(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	copy(b, []byte{0x00, 0x0D, 0x0A, 0x0D, 0x0A, 0xFF})
	return b
}

func fname(t *testing.T) string {
	return strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + ".bin"
}

func inRange(p *Proxy, port int) bool {
	lo, hi := p.Range()
	return port >= lo && port <= hi
}

// roundTrip stores and retrieves data through c and checks the bytes, the
// passive ports and LIST.
func roundTrip(t *testing.T, p *Proxy, c *ftp.Conn, epsv bool, data []byte) {
	t.Helper()
	name := fname(t)
	if epsv {
		name = "e-" + name
	}
	res, _ := xfer(t, c, epsv, "STOR "+name, data)
	if !res.OK() {
		t.Fatalf("STOR: %s\n%s", res, c.Transcript())
	}
	res, got := xfer(t, c, epsv, "RETR "+name, nil)
	if !res.OK() || !bytes.Equal(got, data) {
		t.Fatalf("RETR: %s (got %d bytes, want %d, equal=%v)\n%s", res, len(got), len(data), bytes.Equal(got, data), c.Transcript())
	}
	res, got = xfer(t, c, epsv, "LIST", nil)
	if !res.OK() || !strings.Contains(string(got), name) {
		t.Fatalf("LIST: %s\n%q", res, got)
	}
	ep, r, err := c.Passive(tctx(t), epsv)
	if err != nil {
		t.Fatalf("passive: %v", err)
	}
	if !inRange(p, ep.Port) {
		t.Errorf("%s advertised port %d outside the proxy range %s", r, ep.Port, p.RangeString())
	}
	if !epsv && !ep.IP.Equal(c.RemoteIP()) {
		t.Errorf("227 advertises %s, control peer is %s", ep.IP, c.RemoteIP())
	}
}

func TestTransparent(t *testing.T) {
	for _, server := range []string{"ftpserverlib", "vsftpd", "pyftpdlib"} {
		t.Run(server, func(t *testing.T) {
			p, tg := proxied(t, server)
			c := login(t, tg)
			for _, epsv := range []bool{false, true} {
				for _, n := range []int{0, 1, 4242, 3 << 20} {
					roundTrip(t, p, c, epsv, payload(n))
				}
			}
			if r, err := c.Quit(tctx(t)); err != nil || r.Code != 221 {
				t.Errorf("QUIT: %v %v", r, err)
			}
		})
	}
}

// Two sessions at once, interleaved, through one proxy.
func TestConcurrentSessions(t *testing.T) {
	p, tg := proxied(t, "ftpserverlib")
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := login(t, tg)
			data := payload(100000 + i)
			name := fname(t) + string(rune('a'+i))
			res, _ := xfer(t, c, i%2 == 0, "STOR "+name, data)
			if !res.OK() {
				t.Errorf("STOR %d: %s", i, res)
				return
			}
			res, got := xfer(t, c, i%2 == 1, "RETR "+name, nil)
			if !res.OK() || !bytes.Equal(got, data) {
				t.Errorf("RETR %d: %s", i, res)
			}
		}(i)
	}
	wg.Wait()
	_ = p
}

var _ = net.IPv4

// The trace (ftpfaulty -v, the mutation runs' proxy.log) shows every
// command but never the password.
func TestTraceMasksPassword(t *testing.T) {
	var mu sync.Mutex
	var log strings.Builder
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(&log, format+"\n", args...)
	}
	_, tg := proxied(t, "ftpserverlib", Trace(), WithLogf(logf))
	login(t, tg)
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(log.String(), "PASS ****") || strings.Contains(log.String(), tg.Password) {
		t.Errorf("trace:\n%s", log.String())
	}
}
