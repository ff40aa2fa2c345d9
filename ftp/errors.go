package ftp

import (
	"errors"
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
