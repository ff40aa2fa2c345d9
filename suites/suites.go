// Package suites holds the ftpharness conformance specs: one file per
// protocol area, each spec named by its catalog ID and citing the RFC
// clause it enforces.
//
// Run them from source:
//
//	ginkgo -p ./suites -- --ftp.addr=127.0.0.1:2121 --ftp.user=u --ftp.password=p
//	go test ./suites -args --ftp.url=ftp://u:p@127.0.0.1:2121
//
// or embed them in another project's test (csi-sanity style):
//
//	func TestMyServer(t *testing.T) {
//		cfg := target.Defaults()
//		cfg.Addr, cfg.User, cfg.Password = addr, "u", "p"
//		run := suites.Run(t, cfg, suites.Options{ReportDir: "reports"})
//	}
//
// With no address the embedded ftpserverlib server is started in-process.
package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/servers"
	"github.com/ftpharness/ftpharness/suites/framework"
	"github.com/ftpharness/ftpharness/suites/report"
	"github.com/ftpharness/ftpharness/target"
)

var registered *target.Config

// GomegaFailHandler is the Gomega fail handler to register when running the
// suites (framework.FailHandler: failure messages without the password or
// a server's control sequences).
var GomegaFailHandler = framework.FailHandler

// Register makes the specs run against *cfg, reporting as opts say (the
// first, if any); call it before RunSpecs when embedding the suites in
// your own Ginkgo suite (with RegisterFailHandler(suites.GomegaFailHandler)).
// The pointer is read in BeforeSuite, so flags parsed after Register still
// count.
func Register(cfg *target.Config, opts ...Options) {
	registered = cfg
	options = Options{}
	if len(opts) > 0 {
		options = opts[0]
	}
}

// Run validates cfg and runs every spec as a Go test; it returns the
// verdicts.
func Run(t *testing.T, cfg target.Config, opts ...Options) report.Run {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("ftpharness: %v", err)
	}
	return RunWith(t, &cfg, opts...)
}

// RunWith runs every spec against *cfg (already validated) under t and
// returns the verdicts: what a program embedding the suites calls.
func RunWith(t GinkgoTestingT, cfg *target.Config, opts ...Options) report.Run {
	Register(cfg, opts...)
	RegisterFailHandler(framework.FailHandler)
	lastRun = report.Run{}
	if options.HideGinkgo {
		// Ginkgo's default reporter writes to this writer, read when
		// RunSpecs creates it
		stdout := formatter.ColorableStdOut
		formatter.ColorableStdOut = io.Discard
		defer func() { formatter.ColorableStdOut = stdout }()
	}
	RunSpecs(t, "ftpharness conformance")
	return lastRun
}

var embedded servers.Running

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	cfg := target.Defaults()
	if registered != nil {
		cfg = *registered
	}
	if cfg.Embedded() {
		root, err := os.MkdirTemp("", "ftpharness-embedded-")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(os.RemoveAll, root)
		srv, err := servers.Start(ctx, cfg.EmbeddedServer, servers.Spec{Root: root, StateDir: filepath.Join(root, ".state")})
		Expect(err).NotTo(HaveOccurred(), "start the embedded %s server", cfg.EmbeddedServer)
		embedded = srv
		t := srv.Target()
		cfg.Addr, cfg.User, cfg.Password = t.Addr, t.User, t.Password
		if cfg.PasvRange == "" {
			cfg.PasvRange = t.PasvRange
		}
		GinkgoWriter.Printf("started embedded %s on %s (passive %s)\n", t.Server, t.Addr, t.PasvRange)
	}
	b, err := json.Marshal(cfg)
	Expect(err).NotTo(HaveOccurred())
	return b
}, func(b []byte) {
	var cfg target.Config
	Expect(json.Unmarshal(b, &cfg)).To(Succeed())
	framework.SetConfig(cfg)
	desc := fmt.Sprintf("%s user=%s pasv-range=%s pasv-address=%s", cfg.Addr, cfg.User, cfg.PasvRange, cfg.PasvAddress)
	if note := cfg.TLSNote(); note != "" {
		desc += " (" + note + ")" // e.g. a certificate NOT verified: the reader must know
	}
	AddReportEntry("ftpharness:target", framework.Sanitize(desc))
})

var _ = SynchronizedAfterSuite(func() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := framework.RemoveScratch(ctx); err != nil {
		GinkgoWriter.Printf("removing the scratch directory: %v\n", err)
	}
}, func() {
	if embedded != nil {
		embedded.Stop()
	}
})
