package framework

import "testing"

// FTPH_BIG_FILE_MIB: a size from 8 to 1024 MiB is taken; anything else
// (unset, not a number, too small to outgrow a server's send buffer, too
// big to upload) is the 64 MiB default.
func TestBigFileSize(t *testing.T) {
	for in, want := range map[string]int64{"": 64 << 20, "16": 16 << 20, "8": 8 << 20, "1024": 1024 << 20,
		"4": 64 << 20, "2048": 64 << 20, "16MiB": 64 << 20, "-16": 64 << 20} {
		if got := bigFileSize(in); got != want {
			t.Errorf("bigFileSize(%q) = %d, want %d", in, got, want)
		}
	}
}
