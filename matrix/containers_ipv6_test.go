package matrix_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ftpharness/ftpharness/matrix"
	"github.com/ftpharness/ftpharness/servers/containers"
)

// ipv6ContainerServer is the server TestContainers runs over IPv6.
const ipv6ContainerServer = "vsftpd"

// ipv6Subnet is the ULA /64 of a run's IPv6 network: fd00:f7b:c0::/48
// (ULA: routed nowhere outside this machine) with a /64 per process, as
// Docker refuses two networks on one subnet and several runs may share
// the daemon.
func ipv6Subnet() string {
	return fmt.Sprintf("fd00:f7b:c0:%x::/64", os.Getpid()&0xffff)
}

// ipv6 runs the suite over IPv6 against one server container: vsftpd
// listening on :: in a network of its own with a ULA subnet, dialled by
// the host at the container's ULA address over the bridge (nothing is
// published, so no docker-proxy sits in between). The verdicts must equal
// the IPv6 column's (fixtures/expectations/ipv6) with
// containers/<name>-ipv6.yaml laid over it. Skipped, with the daemon's
// reason, when Docker cannot make an IPv6 network or give the container
// an IPv6 address.
func (e containerEnv) ipv6(t *testing.T, name string) {
	exp, err := matrix.LoadIPv6(expectDir, name)
	if err != nil {
		t.Fatal(err)
	}
	layer, err := matrix.LoadExpectations(containerLayer, name+"-ipv6")
	if err != nil {
		t.Fatal(err)
	}
	exp = exp.Overlay(layer)
	network, subnet := e.network+"-ipv6", ipv6Subnet()
	if err := e.d.NetworkCreateIPv6(context.Background(), network, subnet, e.labels); err != nil {
		skipNoIPv6(t, fmt.Sprintf("the Docker daemon cannot create an IPv6 network on %s: %v", subnet, err))
	}
	t.Cleanup(func() {
		if err := e.d.NetworkRemove(context.Background(), network); err != nil {
			t.Errorf("remove network: %v", err)
		}
	})
	v6 := e
	v6.network = network
	v6.suite(t, "ipv6", containers.ServerSpec{Name: name, RangeSize: rangeSize(name), IPv6: true}, exp, ipv6Areas)
}

// ipv6Areas are the areas the IPv6 container case runs: the data
// connection checks RFC 2428 is about (EPSV, EPRT, PASV and PORT over
// IPv6, the passive range) and the transfers over them. The others see no
// address family and run in servers/<name>.
const ipv6Areas = "pasv || epsv || active || port-range || masquerade"

// skipNoIPv6 skips t because Docker cannot do IPv6 here (a failure under
// FTPH_REQUIRE_IPV6=1).
func skipNoIPv6(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("FTPH_REQUIRE_IPV6") == "1" {
		t.Fatalf("FTPH_REQUIRE_IPV6=1 but %s", why)
	}
	t.Skip(why)
}
