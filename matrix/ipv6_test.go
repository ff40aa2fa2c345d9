package matrix_test

import (
	"testing"

	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/servers"
)

// TestExpectationsIPv6 is the IPv6 column: every server listens on ::1
// and the suites dial [::1]; each verdict must equal the server's
// expectations with fixtures/expectations/ipv6/common.yaml (what every
// server does differently over IPv6) and ipv6/<server>.yaml laid over them.
// FTPH_MATRIX_SERVERS=a,b narrows it.
func TestExpectationsIPv6(t *testing.T) {
	names := envList("FTPH_MATRIX_SERVERS", servers.Names())
	checkMatrix(t, matrix.Options{Servers: names, Listen: "::1"}, func(server string) (matrix.Expectations, error) {
		return matrix.LoadIPv6("../fixtures/expectations", server)
	})
}
