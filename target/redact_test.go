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
