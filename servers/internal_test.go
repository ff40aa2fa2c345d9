package servers

import (
	"context"
	"log"
	"os"
	"strings"
	"testing"
	"time"
)

func TestTemplatesRender(t *testing.T) {
	d := TemplateData{Port: 2121, PasvMin: 30000, PasvMax: 30019, PasvAddress: "127.0.0.1",
		User: "u", Password: "p", Root: "/srv/ftp", StateDir: "/tmp/st", Anonymous: true,
		PAMService: pamService, Binary: "/usr/sbin/ftpd"}
	ents, err := Templates.ReadDir("templates")
	if err != nil || len(ents) < 6 {
		t.Fatalf("templates: %v %d", err, len(ents))
	}
	for _, e := range ents {
		b, err := Render(e.Name(), d)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		s := string(b)
		if strings.Contains(s, "<no value>") || !strings.Contains(s, "2121") {
			t.Errorf("%s rendered badly:\n%s", e.Name(), s)
		}
	}
}

func TestPortAllocationDistinct(t *testing.T) {
	lease := &portLease{}
	defer lease.Release()
	seen := map[int]bool{}
	for i := 0; i < 30; i++ {
		p, err := allocControlPort(lease)
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] || p < ControlPortMin || p > ControlPortMax {
			t.Fatalf("control port %d repeated or out of bounds", p)
		}
		seen[p] = true
		lo, hi, err := allocPasvRange(DefaultRangeSize+i%3, lease)
		if err != nil {
			t.Fatal(err)
		}
		if hi-lo+1 != DefaultRangeSize+i%3 || lo < PasvPortMin || hi > PasvPortMax {
			t.Fatalf("bad range %d-%d", lo, hi)
		}
		for q := lo; q <= hi; q++ {
			if seen[q] {
				t.Fatalf("passive port %d handed out twice", q)
			}
			seen[q] = true
		}
	}
	// A second lease must not get any port held by the first.
	other := &portLease{}
	defer other.Release()
	for i := 0; i < 10; i++ {
		lo, hi, err := allocPasvRange(DefaultRangeSize, other)
		if err != nil {
			t.Fatal(err)
		}
		for q := lo; q <= hi; q++ {
			if seen[q] {
				t.Fatalf("port %d reused while locked", q)
			}
		}
	}
}

// The container shape: a wildcard listen address and no masquerade. Each
// template must bind 0.0.0.0 and carry no advertised-address setting at all
// (the NAT test case relies on a really unconfigured server), while the
// passive range stays.
func TestTemplatesRenderContainerShape(t *testing.T) {
	d := TemplateData{Port: 21, ListenAddress: "0.0.0.0", PasvMin: 30000, PasvMax: 30009,
		User: "u", Password: "p", Root: "/srv/ftp", StateDir: "/tmp/st", PAMService: pamService}
	masq := map[string]string{
		"vsftpd.conf.tmpl":    "pasv_address",
		"proftpd.conf.tmpl":   "MasqueradeAddress",
		"pure-ftpd.args.tmpl": "\n-P\n",
		"pyftpdlib.py.tmpl":   "masquerade_address",
	}
	rng := map[string]string{
		"vsftpd.conf.tmpl":    "pasv_min_port=30000",
		"proftpd.conf.tmpl":   "PassivePorts           30000 30009",
		"pure-ftpd.args.tmpl": "30000:30009",
		"pyftpdlib.py.tmpl":   "range(30000, 30009 + 1)",
	}
	for name, setting := range masq {
		b, err := Render(name, d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := string(b)
		if strings.Contains(s, setting) {
			t.Errorf("%s: no-masquerade render still has %q:\n%s", name, setting, s)
		}
		for _, line := range strings.Split(s, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") && strings.Contains(line, "127.0.0.1") {
				t.Errorf("%s: wildcard render still binds or names 127.0.0.1: %q", name, line)
			}
		}
		if !strings.Contains(s, rng[name]) {
			t.Errorf("%s: passive range %q missing:\n%s", name, rng[name], s)
		}
		// and the same template with an address does carry the setting
		d2 := d
		d2.PasvAddress = "127.0.0.1"
		b2, _ := Render(name, d2)
		if !strings.Contains(string(b2), strings.TrimSpace(setting)) {
			t.Errorf("%s: masquerade render lacks %q", name, setting)
		}
	}
}

// The TLS blocks render only with TLS, name the certificate and key, and
// switch required and implicit where the server has them.
func TestTemplatesRenderTLS(t *testing.T) {
	base := TemplateData{Port: 2121, PasvMin: 30000, PasvMax: 30019, User: "u", Password: "p",
		Root: "/srv/ftp", StateDir: "/tmp/st", PAMService: pamService, ModuleDir: "/mods"}
	want := map[string][]string{ // what TLS explicit + required adds
		"vsftpd.conf.tmpl":    {"ssl_enable=YES", "rsa_cert_file=/st/cert.pem", "rsa_private_key_file=/st/key.pem", "force_local_logins_ssl=YES", "force_local_data_ssl=YES", "implicit_ssl=NO"},
		"proftpd.conf.tmpl":   {"ModulePath             /mods", "LoadModule             mod_tls.c", "TLSEngine              on", "TLSRequired            on", "/st/cert.pem", "/st/key.pem"},
		"pure-ftpd.args.tmpl": {"-Y\n3\n", "-2\n/st/cert.pem,/st/key.pem"},
		"pyftpdlib.py.tmpl":   {"handler = TLS_FTPHandler", "tls_control_required = True", "tls_data_required = True", `"/st/key.pem"`},
	}
	for tmpl, lines := range want {
		plain, err := Render(tmpl, base)
		if err != nil {
			t.Fatal(err)
		}
		d := base
		d.TLS, d.TLSRequired, d.TLSCert, d.TLSKey = "explicit", true, "/st/cert.pem", "/st/key.pem"
		b, err := Render(tmpl, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if !strings.Contains(string(b), l) {
				t.Errorf("%s with TLS lacks %q:\n%s", tmpl, l, b)
			}
			if strings.Contains(string(plain), l) {
				t.Errorf("%s without TLS has %q", tmpl, l)
			}
		}
	}
	d := base
	d.TLS, d.TLSCert, d.TLSKey = "implicit", "/st/cert.pem", "/st/key.pem"
	for tmpl, line := range map[string]string{"vsftpd.conf.tmpl": "implicit_ssl=YES", "proftpd.conf.tmpl": "TLSOptions             UseImplicitSSL"} {
		if b, _ := Render(tmpl, d); !strings.Contains(string(b), line) {
			t.Errorf("%s implicit lacks %q:\n%s", tmpl, line, b)
		}
	}
}

// A start that has to wait for another server's hold on a shared home
// says so once (ftpserve prints it) instead of waiting silently.
func TestHoldHomeWaitSaysWhy(t *testing.T) {
	first, err := holdHome(context.Background(), "waitnotice-test")
	if err != nil {
		t.Fatal(err)
	}
	defer first()
	var told []string
	WaitNotice = func(why string) { told = append(told, why) }
	defer func() { WaitNotice = nil }()
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	if _, err := holdHome(ctx, "waitnotice-test"); err == nil {
		t.Fatal("a second hold on the same home succeeded while the first was held")
	}
	if len(told) != 1 || !strings.Contains(told[0], "waitnotice-test") {
		t.Errorf("want one notice naming the account, got %q", told)
	}
}

// goftp's stray standard-logger lines (SIZE errors) go to its log file
// while it runs, not to the terminal of ftpconform or ftpserve.
func TestGoftpStdLogToItsFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, "goftp", Spec{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	log.Printf("Size: error(test line)")
	if log.Writer() == os.Stderr {
		t.Error("the standard logger still writes to stderr while goftp runs")
	}
	s.Stop()
	if log.Writer() != os.Stderr {
		t.Error("the standard logger was not given back to stderr after goftp stopped")
	}
	b, _ := os.ReadFile(s.LogPath())
	if !strings.Contains(string(b), "Size: error(test line)") {
		t.Errorf("goftp's log lacks the standard logger's line:\n%s", b)
	}
}
