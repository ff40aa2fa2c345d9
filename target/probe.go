package target

import (
	"bufio"
	"fmt"
	"net"
	"time"
)

// Probe checks that the control address answers with a greeting line, so a
// wrong address stops the run with one clear message instead of a failure
// per check.
func Probe(c Config) error {
	conn, err := net.DialTimeout("tcp", c.Addr, c.Timeout)
	if err != nil {
		return fmt.Errorf("cannot reach the server at %s (--ftp.addr): %v", c.Addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(c.Timeout))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("%s accepted the connection but sent no greeting within %v (is it an FTP server?): %v", c.Addr, c.Timeout, err)
	}
	if len(line) < 3 || line[0] < '1' || line[0] > '5' {
		return fmt.Errorf("%s greeted with %q, which is not an FTP reply", c.Addr, line)
	}
	return nil
}
