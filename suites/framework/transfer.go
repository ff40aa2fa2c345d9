package framework

// Transfers over a passive data connection: Xfer, and Put/Get/PutStream
// that require the transfer to complete. Transfers held open for
// ABOR/STAT/QUIT are in transfer_abort.go, the scratch directory in
// scratch.go, active-mode transfers (ActiveXfer) in active.go.

import (
	"bytes"
	"context"
	"io"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ftpharness/ftpharness/fixtures"
	"github.com/ftpharness/ftpharness/ftp"
)

// Xfer runs cmdline over a fresh passive data connection. upload nil means
// download; the data is returned.
func (s *Session) Xfer(ctx context.Context, epsv bool, cmdline string, upload []byte) (ftp.TransferResult, []byte) {
	GinkgoHelper()
	nc := s.Data(ctx, epsv)
	var sink bytes.Buffer
	var up io.Reader
	if upload != nil {
		up = bytes.NewReader(upload)
	}
	octx, cancel := context.WithTimeout(ctx, 4*Config().Timeout)
	defer cancel()
	res := s.Transfer(octx, nc, cmdline, up, &sink)
	return res, sink.Bytes()
}

// Put stores data at path (TYPE I, passive) and requires success.
func (s *Session) Put(ctx context.Context, path string, data []byte) {
	GinkgoHelper()
	s.Do(ctx, "TYPE", "I")
	res, _ := s.Xfer(ctx, false, "STOR "+path, data)
	Expect(res.OK()).To(BeTrue(), "STOR %s: %s", path, res)
}

// Get retrieves path (TYPE I, passive) and requires success.
func (s *Session) Get(ctx context.Context, path string) []byte {
	GinkgoHelper()
	s.Do(ctx, "TYPE", "I")
	res, data := s.Xfer(ctx, false, "RETR "+path, nil)
	Expect(res.OK()).To(BeTrue(), "RETR %s: %s", path, res)
	return data
}

// PutStream stores size bytes of fixtures.Reader(seed, size) at path in
// TYPE I over PASV and requires the transfer to complete.
func (s *Session) PutStream(ctx context.Context, path string, seed uint64, size int64) {
	GinkgoHelper()
	s.Do(ctx, "TYPE", "I")
	nc := s.Data(ctx, false)
	octx, cancel := context.WithTimeout(ctx, 4*Config().Timeout)
	defer cancel()
	res := s.Transfer(octx, nc, "STOR "+path, fixtures.Reader(seed, size), nil)
	Expect(res.OK()).To(BeTrue(), "STOR %s (%d bytes): %s", path, size, res)
}
