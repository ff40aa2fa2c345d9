package servers

import (
	"crypto/tls"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/ftp/tlscert"
)

// tlsModes names the FTPS modes each server starts with (set by its
// launcher's init): only what the server itself implements.
var tlsModes = map[string][]ftp.TLSMode{}

// canTLS declares that server starts with each of modes.
func canTLS(server string, modes ...ftp.TLSMode) { tlsModes[server] = modes }

// TLSModes lists the FTPS modes a server starts with ("explicit",
// "implicit"), none for a server without TLS.
func TLSModes(server string) []string {
	var out []string
	for _, m := range tlsModes[server] {
		out = append(out, m.String())
	}
	return out
}

// checkTLS refuses a TLS mode that is unknown or that the server cannot
// start with.
func checkTLS(name string, spec Spec) error {
	mode, ok := ftp.ParseTLSMode(spec.TLS)
	switch {
	case !ok:
		return fmt.Errorf("servers: TLS mode %q is not off, explicit or implicit", spec.TLS)
	case mode == ftp.TLSOff && spec.TLSRequired:
		return fmt.Errorf("servers: TLSRequired without a TLS mode (set TLS to explicit or implicit)")
	case mode == ftp.TLSOff:
		return nil
	case len(tlsModes[name]) == 0:
		return fmt.Errorf("servers: %s has no TLS variant (with TLS: %s)", name, strings.Join(tlsServers(), ", "))
	}
	for _, m := range tlsModes[name] {
		if m == mode {
			return nil
		}
	}
	return fmt.Errorf("servers: %s has no %s FTPS, only %s", name, mode, strings.Join(TLSModes(name), ", "))
}

// tlsServers lists the servers with a TLS variant, sorted.
func tlsServers() []string {
	var with []string
	for n, modes := range tlsModes {
		if len(modes) > 0 {
			with = append(with, n)
		}
	}
	sort.Strings(with)
	return with
}

// tlsMode is the Spec's TLS mode (validated by checkTLS).
func (r *resolved) tlsMode() ftp.TLSMode {
	m, _ := ftp.ParseTLSMode(r.TLS)
	return m
}

// setupTLS makes the test CA and the server certificate and writes them
// under StateDir/tls (for daemons; in-process servers use r.ca directly).
func (r *resolved) setupTLS() error {
	if r.tlsMode() == ftp.TLSOff {
		return nil
	}
	ca, err := tlscert.New("")
	if err != nil {
		return err
	}
	files, err := ca.WriteFiles(filepath.Join(r.StateDir, "tls"))
	if err != nil {
		return err
	}
	r.ca, r.tlsFiles = ca, files
	return nil
}

// greetingTLS is how the readiness probe reaches the greeting: nil
// (cleartext) unless the server is implicit FTPS, then a handshake that
// trusts the test CA.
func (r *resolved) greetingTLS() *tls.Config {
	if r.ca == nil || r.tlsMode() != ftp.TLSImplicit {
		return nil
	}
	return &tls.Config{RootCAs: r.ca.Pool(), ServerName: dialHost(r.ListenAddress), MinVersion: tls.VersionTLS12}
}

// tlsData fills the TLS fields of the template data.
func (r *resolved) tlsData(d *TemplateData) {
	if r.ca == nil {
		return
	}
	d.TLS, d.TLSRequired = r.tlsMode().String(), r.TLSRequired
	d.TLSCert, d.TLSKey = r.tlsFiles.Cert, r.tlsFiles.Key
}
