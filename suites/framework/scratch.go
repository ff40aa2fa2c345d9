package framework

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/ftp"
)

// The scratch directory is made once per test process under
// Config().ScratchDir and removed with everything in it after the suite.
var (
	scratchMu  sync.Mutex
	scratchDir string
	names      atomic.Int64
)

// Scratch returns this process's scratch directory on the server, creating
// it on first use.
func Scratch(ctx context.Context) string {
	GinkgoHelper()
	scratchMu.Lock()
	defer scratchMu.Unlock()
	if scratchDir != "" {
		return scratchDir
	}
	dir := path.Join(Config().ScratchDir, fmt.Sprintf("ftph-%d-%04x", os.Getpid(), rand.IntN(1<<16)))
	s, err := rawLogin(ctx)
	blockOnLoginRefusal(err)
	Expect(err).NotTo(HaveOccurred(), "log in to create the scratch directory")
	defer s.Close()
	octx, cancel := Ctx(ctx)
	defer cancel()
	r, err := s.Cmd(octx, "MKD", dir)
	Expect(err).NotTo(HaveOccurred())
	Expect(r.Code).To(Equal(257), "MKD %s (the user needs write access to --ftp.scratch-dir): %s", dir, r)
	scratchDir = dir
	return dir
}

// Name returns a fresh file name in the scratch directory.
func Name(ctx context.Context, stem string) string {
	GinkgoHelper()
	return path.Join(Scratch(ctx), fmt.Sprintf("%s-%d", stem, names.Add(1)))
}

// RemoveScratch deletes the scratch directory tree (AfterSuite).
func RemoveScratch(ctx context.Context) error {
	scratchMu.Lock()
	dir := scratchDir
	scratchDir = ""
	scratchMu.Unlock()
	if dir == "" {
		return nil
	}
	s, err := rawLogin(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	return removeTree(ctx, s, dir, 0)
}

func removeTree(ctx context.Context, c *ftp.Conn, dir string, depth int) error {
	if depth > 4 {
		return nil
	}
	octx, cancel := Ctx(ctx)
	defer cancel()
	nc, _, err := c.OpenPassive(octx, false, ftp.DataOptions{})
	if err != nil {
		return err
	}
	var b strings.Builder
	res := c.Transfer(octx, nc, "NLST "+dir, nil, &b)
	if res.Err == nil {
		for _, n := range strings.Split(b.String(), "\n") {
			p, ok := scratchEntry(dir, n)
			if !ok {
				continue
			}
			if r, err := c.Cmd(octx, "DELE", p); err == nil && r.Code/100 != 2 {
				removeTree(ctx, c, p, depth+1)
			}
		}
	}
	_, err = c.Cmd(octx, "RMD", dir)
	return err
}

// scratchEntry is the path to remove for one NLST line of dir, and false
// for the lines that name no entry of dir. Servers answer NLST with bare
// names or with dir/name, and some list dir/. and dir/.. (pure-ftpd): the
// parent must never be entered, or the cleanup would delete the files
// beside the scratch directory, in the user's own directory.
func scratchEntry(dir, line string) (string, bool) {
	n := strings.TrimRight(strings.TrimSpace(line), "/")
	base := path.Base(n)
	if n == "" || base == "." || base == ".." || base == "/" {
		return "", false
	}
	return path.Join(dir, base), true
}
