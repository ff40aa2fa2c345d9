package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ftpharness/ftpharness/ftp"
	"github.com/ftpharness/ftpharness/target"
)

// settleTLS applies --tls-ca and --tls-insecure to an FTPS target and
// checks them (and --tls-resume) before any connection; the target's
// TLSConfig reads the CA file as the run will.
func settleTLS(cfg *config, tgt *target.Config) error {
	if cfg.tlsMode != "" {
		if cfg.target != "" {
			return errors.New("--tls: with --target the URL's scheme sets FTPS (ftpes:// explicit, ftps:// implicit)")
		}
		if m, ok := ftp.ParseTLSMode(cfg.tlsMode); !ok || m == ftp.TLSOff {
			return fmt.Errorf("--tls %q: want explicit or implicit", cfg.tlsMode)
		}
		if cfg.server == "sink" {
			return errors.New("--tls: the sink speaks no TLS (--server embedded does)")
		}
		if cfg.tlsCA != "" || cfg.tlsInsecure {
			return errors.New("--tls-ca/--tls-insecure: the server ftpload starts is verified against the test CA it makes")
		}
		return nil // the server's target brings its CA
	}
	if !tgt.FTPS() {
		if cfg.tlsCA != "" || cfg.tlsInsecure || cfg.set["tls-resume"] {
			return errors.New("--tls-ca/--tls-insecure/--tls-resume: the target is plain FTP (use an ftpes:// or ftps:// --target)")
		}
		return nil
	}
	if cfg.tlsCA != "" && cfg.tlsInsecure {
		return errors.New("--tls-insecure: verification is off, so --tls-ca would not be used; give one of them")
	}
	tgt.TLSCA, tgt.TLSInsecure = cfg.tlsCA, cfg.tlsInsecure
	if _, err := tgt.TLSConfig(); err != nil { // reads the CA file
		return errors.New(strings.ReplaceAll(err.Error(), "--ftp.tls-ca", "--tls-ca"))
	}
	return nil
}
