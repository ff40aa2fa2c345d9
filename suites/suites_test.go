package suites_test

import (
	"flag"
	"testing"

	// The ginkgo CLI treats a package as a Ginkgo suite (parallel
	// processes, --focus...) only when a test file imports ginkgo itself.
	_ "github.com/onsi/ginkgo/v2"

	"github.com/ftpharness/ftpharness/suites"
	"github.com/ftpharness/ftpharness/target"
)

var (
	flags     = target.RegisterFlags(flag.CommandLine)
	reportDir = flag.String("report-dir", "", "write verdicts.json, junit.xml and ginkgo.json here")
)

func TestConformance(t *testing.T) {
	cfg, err := flags.Resolve()
	if err != nil {
		t.Fatalf("ftpharness: %v", err)
	}
	suites.Run(t, cfg, suites.Options{ReportDir: *reportDir})
}
