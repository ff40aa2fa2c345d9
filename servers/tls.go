package servers

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/ftp/tlscert"
)

// tlsCapable names the servers that start with Spec.TLS (set by their
// launcher's init).
var tlsCapable = map[string]bool{}

// checkTLS refuses a TLS mode that is unknown or that the server cannot
// start with yet.
func checkTLS(name string, spec Spec) error {
	mode, ok := ftp.ParseTLSMode(spec.TLS)
	switch {
	case !ok:
		return fmt.Errorf("servers: TLS mode %q is not off, explicit or implicit", spec.TLS)
	case mode != ftp.TLSOff && !tlsCapable[name]:
		var with []string
		for n := range tlsCapable {
			with = append(with, n)
		}
		sort.Strings(with)
		return fmt.Errorf("servers: %s has no TLS variant yet (with TLS: %s)", name, strings.Join(with, ", "))
	}
	return nil
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
