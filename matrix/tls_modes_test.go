package matrix_test

import (
	"slices"
	"testing"

	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/servers"
)

// tlsModeAreas are the catalog areas the implicit and TLS-required columns
// run (--ginkgo.label-filter): the FTPS checks and the passive ones, what
// these columns are about (passive mode under TLS, where no firewall helper
// can read the 227/229); the explicit column (TestExpectationsTLS) runs
// the whole suite over TLS already.
var tlsModeAreas = []string{"ftps", "pasv", "epsv", "port-range", "masquerade"}

// TestExpectationsTLSImplicit runs the FTPS and passive checks over
// implicit FTPS (ftps://: TLS before the greeting, TLS-014) against every
// server with an implicit variant; the verdicts must equal the server's
// expectations with tls/<server>.yaml and tls/<server>-implicit.yaml laid
// over them.
func TestExpectationsTLSImplicit(t *testing.T) {
	names := tlsVariants(func(modes []string) bool { return slices.Contains(modes, "implicit") })
	checkMatrix(t, matrix.Options{Servers: names, TLS: "implicit", Args: tlsModeArgs()}, func(server string) (matrix.Expectations, error) {
		return loadTLSLayer(server, "implicit")
	})
}

// TestExpectationsTLSRequired runs the FTPS and passive checks over
// explicit FTPS against every TLS variant started with TLS required
// (servers.Spec.TLSRequired) and declared so (--ftp.features=tls-required:
// TLS-008 judges the policy); the verdicts must equal the server's
// expectations with tls/<server>.yaml and tls/<server>-required.yaml laid
// over them.
func TestExpectationsTLSRequired(t *testing.T) {
	names := tlsVariants(func(modes []string) bool { return len(modes) > 0 })
	checkMatrix(t, matrix.Options{Servers: names, TLS: "explicit", TLSRequired: true, Args: tlsModeArgs()}, func(server string) (matrix.Expectations, error) {
		return loadTLSLayer(server, "required")
	})
}

// loadTLSLayer is server's explicit FTPS expectations (as in
// TestExpectationsTLS) with tls/<server>-<variant>.yaml laid over them (as
// TestContainers' tls/<server>-implicit does): every server of a variant
// column has one, since each changes at least TLS-001/007 or TLS-008.
func loadTLSLayer(server, variant string) (matrix.Expectations, error) {
	exp, err := matrix.LoadLayered("../fixtures/expectations", "../fixtures/expectations/tls", server)
	if err != nil {
		return exp, err
	}
	layer, err := matrix.LoadExpectations("../fixtures/expectations/tls", server+"-"+variant)
	return exp.Overlay(layer), err
}

// tlsVariants lists the servers whose TLS modes satisfy want, or
// FTPH_MATRIX_SERVERS when set.
func tlsVariants(want func(modes []string) bool) []string {
	if only := envList("FTPH_MATRIX_SERVERS", nil); only != nil {
		return only
	}
	var names []string
	for _, n := range servers.Names() {
		if want(servers.TLSModes(n)) {
			names = append(names, n)
		}
	}
	return names
}

// tlsModeArgs restricts a run to tlsModeAreas.
func tlsModeArgs() []string {
	return []string{"--ginkgo.label-filter=" + matrix.LabelFilter(tlsModeAreas)}
}
