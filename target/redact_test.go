package target

import (
	"strings"
	"testing"
)

// A rejected --ftp.url is quoted in the error without its password.
func TestBadURLErrorHidesPassword(t *testing.T) {
	for _, u := range []string{"http://u:Zq7-secret@127.0.0.1:21", "ftp://u:Zq7-secret@", "ftp://u:Zq7-secret@[::1"} {
		c := Defaults()
		c.URL = u
		err := c.Validate()
		if err == nil {
			t.Fatalf("%s: accepted", u)
		}
		if strings.Contains(err.Error(), "Zq7") || !strings.Contains(err.Error(), "u:****@") {
			t.Errorf("%s: error %q", u, err)
		}
	}
}

// ParseURL is the one ftp:// syntax (ftpconform --ftp.url, ftpload
// --target): port 21 by default, the port in 1-65535, no password in an
// error.
func TestParseURL(t *testing.T) {
	u, err := ParseURL("ftp://alice:s3cret@127.0.0.1")
	if err != nil || u.Addr != "127.0.0.1:21" || u.User != "alice" || u.Password != "s3cret" || !u.HasUser || !u.HasPassword {
		t.Errorf("%+v, %v", u, err)
	}
	if u, err := ParseURL("FTP://[::1]:2121"); err != nil || u.Addr != "[::1]:2121" || u.HasUser {
		t.Errorf("%+v, %v", u, err)
	}
	for _, bad := range []string{"127.0.0.1:21", "http://a:b@h:21", "ftp://", "ftp://u:s3cret@h:70000", "ftp://u:s3cret@:21"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: the error holds the password: %v", bad, err)
		}
	}
}
