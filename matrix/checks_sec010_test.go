package matrix_test

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ftpharness/ftpharness/suites/report"
	"github.com/ftpharness/ftpharness/target"
)

// SEC-010 against two tiny servers: one dials the PORT address as soon as
// it reads PORT (before the client closes: its choice, recorded only), one
// dials it after the control connection has closed (the late connection
// RFC 959 §4.1.1's "effective action of an abort (ABOR) and a logout
// (QUIT)" leaves no reason for).
func TestSEC010CountsOnlyArrivalsAfterTheClose(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the suites; skipped with -short")
	}
	for _, late := range []bool{false, true} {
		addr := portDialServer(t, late)
		tg := target.Config{Server: "port-dial", Addr: addr, User: "ftpuser", Password: "pw"}
		got := runChecks(t, tg, `\bSEC-010\b`)
		if late {
			expectVerdicts(t, got, map[string]want{"SEC-010": {result: report.Fail, contains: []string{"after the close", "RFC 959 §4.1.1", "Fix:"}}})
		} else {
			expectVerdicts(t, got, map[string]want{"SEC-010": {result: report.Pass}})
		}
	}
}

// portDialServer answers a login, PORT (200) and a few housekeeping
// commands; it dials the PORT address on PORT, or (late) once the client
// has closed the control connection.
func portDialServer(t *testing.T, late bool) string {
	t.Helper()
	return serveSessions(t, func(c net.Conn) { portDialSession(c, late) })
}

func portDialSession(c net.Conn, late bool) {
	defer c.Close()
	say := func(s string) { c.SetWriteDeadline(time.Now().Add(5 * time.Second)); c.Write([]byte(s + "\r\n")) }
	say("220 port-dial ready")
	br := bufio.NewReaderSize(c, 1024)
	target := ""
	for n := 0; n < 200; n++ {
		c.SetReadDeadline(time.Now().Add(time.Minute))
		line, err := br.ReadString('\n')
		if err != nil {
			if late && target != "" {
				time.Sleep(200 * time.Millisecond)
				portDial(target)
			}
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(verb) {
		case "USER":
			say("331 Password required.")
		case "PASS":
			say("230 Logged in.")
		case "PORT":
			target = portTarget(arg)
			say("200 PORT command successful.")
			if !late && target != "" {
				portDial(target)
			}
		case "NOOP", "TYPE":
			say("200 OK.")
		case "PWD", "MKD":
			say(`257 "/" is the directory.`)
		case "CWD", "DELE", "RMD":
			say("250 OK.")
		case "QUIT":
			say("221 Bye.")
			return
		default:
			say("502 Not implemented.")
		}
	}
}

// portTarget turns h1,h2,h3,h4,p1,p2 into host:port ("" if malformed).
func portTarget(arg string) string {
	f := strings.Split(arg, ",")
	if len(f) != 6 {
		return ""
	}
	p1, err1 := strconv.Atoi(f[4])
	p2, err2 := strconv.Atoi(f[5])
	if err1 != nil || err2 != nil {
		return ""
	}
	return net.JoinHostPort(strings.Join(f[:4], "."), strconv.Itoa(p1*256+p2))
}

// portDial connects to target, holds the connection a moment and closes it.
func portDial(target string) {
	d, err := net.DialTimeout("tcp", target, 2*time.Second)
	if err == nil {
		time.Sleep(100 * time.Millisecond)
		d.Close()
	}
}
