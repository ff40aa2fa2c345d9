// Command standin is a stand-in server image for the tests of package
// containers: ftpserverlib configured by the same environment as the real
// server images (FTPH_USER, FTPH_PASSWORD, FTPH_PASV_RANGE,
// FTPH_PASV_ADDRESS, FTPH_PORT), listening on 0.0.0.0. Built static and
// copied into a FROM-scratch image as /usr/local/bin/ftpserve, so the
// health check `ftpserve health` works as in the real images.
package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"
	"github.com/spf13/afero"
)

func env(k, def string) string {
	if v, ok := os.LookupEnv(k); ok {
		return v
	}
	return def
}

type driver struct {
	s          *ftpserver.Settings
	user, pass string
}

func (d *driver) GetSettings() (*ftpserver.Settings, error) { return d.s, nil }
func (d *driver) ClientConnected(ftpserver.ClientContext) (string, error) {
	return "ftpharness standin ready", nil
}
func (d *driver) ClientDisconnected(ftpserver.ClientContext) {}
func (d *driver) GetTLSConfig() (*tls.Config, error)         { return nil, errors.New("no TLS") }
func (d *driver) AuthUser(_ ftpserver.ClientContext, u, p string) (ftpserver.ClientDriver, error) {
	if u == d.user && p == d.pass {
		return afero.NewBasePathFs(afero.NewOsFs(), "/srv"), nil
	}
	return nil, errors.New("bad credentials")
}

func main() {
	port := env("FTPH_PORT", "21")
	if len(os.Args) > 1 && os.Args[1] == "health" {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 3*time.Second)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		l, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || !strings.HasPrefix(l, "220") {
			fmt.Println("no 220 greeting:", l, err)
			os.Exit(1)
		}
		fmt.Print(l)
		return
	}
	lo, hi, _ := strings.Cut(env("FTPH_PASV_RANGE", "30000-30009"), "-")
	a, _ := strconv.Atoi(lo)
	b, _ := strconv.Atoi(hi)
	_ = os.MkdirAll("/srv", 0o777)
	s := &ftpserver.Settings{
		ListenAddr:               "0.0.0.0:" + port,
		PublicHost:               env("FTPH_PASV_ADDRESS", ""),
		PassiveTransferPortRange: ftpserver.PortRange{Start: a, End: b},
	}
	srv := ftpserver.NewFtpServer(&driver{s: s, user: env("FTPH_USER", "ftpuser"), pass: env("FTPH_PASSWORD", "ftppass")})
	srv.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	fmt.Printf("standin: listening on %s, passive %d-%d, advertising %q\n", s.ListenAddr, a, b, s.PublicHost)
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
