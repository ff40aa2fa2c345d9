package ftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
)

var errEOF = io.EOF

// IsTimeout reports whether err came from a deadline.
func IsTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TranscriptOf returns the transcript attached to err, if any.
func TranscriptOf(err error) *Transcript {
	var oe *OpError
	if errors.As(err, &oe) && oe.Transcript != nil {
		return oe.Transcript
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Transcript
	}
	return nil
}

// withCancel makes an I/O error caused by ctx's cancellation match
// context.Canceled. (arm turns cancellation into a past socket deadline,
// which alone surfaces as a bare "i/o timeout", indistinguishable from a
// server that stopped answering.) The result still satisfies IsTimeout.
func withCancel(ctx context.Context, err error) error {
	if err == nil || !errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled) || !IsTimeout(err) {
		return err
	}
	return fmt.Errorf("%w: %w", context.Canceled, err)
}
