package framework

import "testing"

// The cleanup removes what NLST lists in the scratch directory and nothing
// outside it: pure-ftpd lists "dir/." and "dir/..", and following ".."
// deleted the files beside the scratch directory.
func TestScratchEntryStaysInside(t *testing.T) {
	dir := "ftph-1-abcd"
	for line, want := range map[string]string{
		"a":                "ftph-1-abcd/a",
		"ftph-1-abcd/a\r":  "ftph-1-abcd/a",
		"ftph-1-abcd/sub/": "ftph-1-abcd/sub",
		"/home/u/x/b":      "ftph-1-abcd/b",
	} {
		if got, ok := scratchEntry(dir, line); !ok || got != want {
			t.Errorf("scratchEntry(%q) = %q, %v; want %q", line, got, ok, want)
		}
	}
	for _, line := range []string{"", ".", "..", "ftph-1-abcd/.", "ftph-1-abcd/..", "ftph-1-abcd/../", "/", "x/../.."} {
		if got, ok := scratchEntry(dir, line); ok {
			t.Errorf("scratchEntry(%q) = %q: must not be removed", line, got)
		}
	}
}
