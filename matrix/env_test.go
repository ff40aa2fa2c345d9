package matrix_test

import (
	"os"
	"strings"
)

// envList is the comma list in the environment variable name (items
// trimmed), or def when it is unset or empty: the FTPH_* variables that
// narrow a long test to some servers, faults or parts while working on them.
func envList(name string, def []string) []string {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []string
	for _, x := range strings.Split(v, ",") {
		out = append(out, strings.TrimSpace(x))
	}
	return out
}
