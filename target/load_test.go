package target

import (
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPrecedenceFlagsOverEnvOverProfile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "p.yaml")
	os.WriteFile(prof, []byte("addr: 127.0.0.1:1000\nuser: fromprofile\npassword: pp\npasv-range: 30000-30009\ntimeout: 3s\nfeatures: [fxp]\n"), 0o600)
	t.Setenv("FTPH_PROFILE", prof)
	t.Setenv("FTPH_USER", "fromenv")
	t.Setenv("FTPH_PASV_RANGE", "31000-31009")
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := RegisterFlags(fs)
	if err := fs.Parse([]string{"--ftp.pasv-range=32000-32009"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:1000" || cfg.User != "fromenv" || cfg.Password != "pp" || cfg.PasvRange != "32000-32009" || cfg.Timeout != 3*time.Second || !cfg.Has("fxp") {
		t.Fatalf("wrong precedence: %+v", cfg)
	}
}

func TestJSONProfileAndURL(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(prof, []byte(`{"url": "ftp://u:s3cret@127.0.0.1:2121", "pasv-address": "127.0.0.1"}`), 0o600)
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := RegisterFlags(fs)
	fs.Parse([]string{"--ftp.profile=" + prof})
	cfg, err := f.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:2121" || cfg.User != "u" || cfg.Password != "s3cret" {
		t.Fatalf("url not applied: %+v", cfg)
	}
}

func TestValidationNamesTheFlag(t *testing.T) {
	cases := map[string]string{
		"--ftp.pasv-range=9-1":            "--ftp.pasv-range",
		"--ftp.addr=nohostport":           "--ftp.addr",
		"--ftp.timeout=soon":              "--ftp.timeout",
		"--ftp.foreign-source=10.0.0.1":   "--ftp.foreign-source",
		"--ftp.foreign-source=fd00::2":    "--ftp.foreign-source", // IPv6: ::1 alone is loopback
		"--ftp.third-party=2001:db8::1":   "--ftp.third-party",
		"--ftp.pasv-address=::1":          "--ftp.pasv-address", // a 227 carries IPv4 only
		"--ftp.features=teleport":         "--ftp.features",
		"--ftp.url=http://x":              "--ftp.url",
		"--ftp.pasv-address=not-an-ip":    "--ftp.pasv-address",
		"--ftp.profile=/nonexistent.yaml": "--ftp.profile",
		// issue 11: a port out of range or a missing host or scheme is a
		// usage error here, not a dial error blamed on the server
		"--ftp.addr=127.0.0.1:99999":          "--ftp.addr",
		"--ftp.addr=127.0.0.1:0":              "--ftp.addr",
		"--ftp.addr=:21":                      "--ftp.addr",
		"--ftp.addr=user:pass@127.0.0.1:21":   "--ftp.addr",
		"--ftp.url=ftp://u:p@127.0.0.1:99999": "--ftp.url",
		"--ftp.url=ftp://u:p@:21":             "--ftp.url",
		"--ftp.url=user:pass@127.0.0.1:21":    "--ftp.url",
		"--ftp.url=127.0.0.1:21":              "--ftp.url",
		"--ftp.url=//user:pass@127.0.0.1:21":  "--ftp.url",
	}
	for arg, want := range cases {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		f := RegisterFlags(fs)
		if err := fs.Parse([]string{arg, "--ftp.user=u"}); err != nil {
			t.Fatal(err)
		}
		_, err := f.Resolve()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v does not name %s", arg, err, want)
		}
	}
}

func TestProfileUnknownKey(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(prof, []byte("adress: 127.0.0.1:21\n"), 0o600)
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := RegisterFlags(fs)
	fs.Parse([]string{"--ftp.profile=" + prof})
	if _, err := f.Resolve(); err == nil || !strings.Contains(err.Error(), "adress") {
		t.Fatalf("unknown key not reported: %v", err)
	}
}

func TestRange(t *testing.T) {
	r, err := ParseRange("30000-30009")
	if err != nil || r.Size() != 10 || !r.Contains(30000) || !r.Contains(30009) || r.Contains(30010) {
		t.Fatalf("%v %v", r, err)
	}
	for _, bad := range []string{"", "a-b", "0-10", "10-5", "1-70000"} {
		if _, err := ParseRange(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestIPv6Target: an [::1] URL is a target like any other, and ::1 is
// accepted where a loopback address is required.
func TestIPv6Target(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := RegisterFlags(fs)
	if err := fs.Parse([]string{"--ftp.url=ftp://u:p@[::1]:2121", "--ftp.foreign-source=::1", "--ftp.third-party=::1"}); err != nil {
		t.Fatal(err)
	}
	c, err := f.Resolve()
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if c.Addr != "[::1]:2121" || c.Host() != "::1" {
		t.Errorf("addr %q host %q, want [::1]:2121 and ::1", c.Addr, c.Host())
	}
}

// TestPrivateLoopbackULA: outside a namespace of its own (this machine's
// has a network interface), no ULA is accepted as a second loopback
// address; nor is anything but a ULA anywhere.
func TestPrivateLoopbackULA(t *testing.T) {
	for _, s := range []string{"fd00:f7b::2", "::1", "127.0.0.2", "2001:db8::1", "fe80::1"} {
		if PrivateLoopbackULA(net.ParseIP(s)) && s != "fd00:f7b::2" {
			t.Errorf("%s accepted as a private loopback ULA", s)
		}
	}
}

// --ftp.pasv-ephemeral (inetutils: no range setting, kernel ports) survives
// a profile round trip and cannot be given with a declared range.
func TestPasvEphemeral(t *testing.T) {
	cfg, err := resolveArgs(t, "--ftp.addr=127.0.0.1:21", "--ftp.user=u", "--ftp.pasv-ephemeral")
	if err != nil || !cfg.PasvEphemeral {
		t.Fatalf("flag: %+v %v", cfg, err)
	}
	out := filepath.Join(t.TempDir(), "w.yaml")
	if err := cfg.WriteProfile(out); err != nil {
		t.Fatal(err)
	}
	back, err := resolveArgs(t, "--ftp.profile="+out)
	if err != nil || !back.PasvEphemeral {
		t.Fatalf("profile round trip: %+v %v", back, err)
	}
	if _, err := resolveArgs(t, "--ftp.addr=127.0.0.1:21", "--ftp.user=u", "--ftp.pasv-ephemeral", "--ftp.pasv-range=30000-30009"); err == nil || !strings.Contains(err.Error(), "--ftp.pasv-ephemeral") {
		t.Errorf("range and ephemeral together: %v", err)
	}
}
