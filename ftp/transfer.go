package ftp

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"time"
)

// TransferResult is everything a data transfer exchange produced.
type TransferResult struct {
	Cmd     string
	Replies []Reply // preliminary (125/150) and completion, or the error reply
	Bytes   int64   // bytes moved over the data connection
	SHA256  string  // hex SHA-256 of those bytes
	// DataEOF is when the data connection reached EOF (downloads) or was
	// closed by us (uploads); zero if it never did.
	DataEOF time.Time
	// Err is a network or protocol failure, or a *ReplyError when the
	// server refused or failed the transfer.
	Err error
	// TLS is the data connection's TLS state (nil: cleartext).
	TLS *tls.ConnectionState
}

// Final is the last reply of the exchange (zero Reply if none).
func (t TransferResult) Final() Reply {
	if len(t.Replies) == 0 {
		return Reply{}
	}
	return t.Replies[len(t.Replies)-1]
}

// OK reports a 1xx followed by 226/250 and no error.
func (t TransferResult) OK() bool {
	return t.Err == nil && len(t.Replies) >= 2 && t.Replies[0].Preliminary() && t.Final().Is(226, 250)
}

func (t TransferResult) String() string {
	s := fmt.Sprintf("%s: %d bytes", t.Cmd, t.Bytes)
	for _, r := range t.Replies {
		s += " | " + r.String()
	}
	if t.Err != nil {
		s += " | error: " + t.Err.Error()
	}
	return s
}

// DataGrace is how long a download keeps reading after a 226/250 arrived
// while the data connection is still open.
var DataGrace = 2 * time.Second

// DataFunc yields the data connection; Transfer calls it after the
// preliminary reply (active mode accepts there; passive mode returns the
// connection dialled before the command).
type DataFunc func(ctx context.Context) (net.Conn, error)

// Ready wraps an already-open data connection as a DataFunc.
func Ready(nc net.Conn) DataFunc {
	return func(context.Context) (net.Conn, error) { return nc, nil }
}

// Transfer runs a passive transfer over an open data connection: it sends
// cmdline (e.g. "RETR f", "STOR f", "LIST"), reads the preliminary reply,
// moves the data (upload from upload if non-nil, otherwise download into
// sink, which may be nil), closes the data connection and reads the
// completion reply. The data connection is always closed on return.
func (c *Conn) Transfer(ctx context.Context, data net.Conn, cmdline string, upload io.Reader, sink io.Writer) TransferResult {
	return c.TransferWith(ctx, cmdline, Ready(data), upload, sink, func() {
		if data != nil {
			data.Close()
		}
	})
}

// TransferWith is Transfer with a lazily obtained data connection. cleanup
// (optional) runs when the exchange ends, e.g. to close a listener.
func (c *Conn) TransferWith(ctx context.Context, cmdline string, get DataFunc, upload io.Reader, sink io.Writer, cleanup func()) (res TransferResult) {
	res.Cmd = cmdline
	if cleanup != nil {
		defer cleanup()
	}
	ctx, cancel := withDefaultDeadline(ctx, c.opts.timeout)
	defer cancel()
	if err := c.SendLine(ctx, cmdline); err != nil {
		res.Err = err
		return res
	}
	first, err := c.ReadReply(ctx)
	if err != nil {
		res.Err = err
		return res
	}
	res.Replies = append(res.Replies, first)
	if !first.Preliminary() {
		res.Err = &ReplyError{Cmd: cmdline, Reply: first}
		return res
	}
	data, err := get(ctx)
	if err == nil && data == nil {
		// e.g. Transfer(ctx, nil, ...) to see how a server treats a
		// transfer without a data connection, and it answered 1xx anyway
		err = &OpError{Op: "data connection", Err: errors.New("no data connection to transfer over"), Transcript: c.tr}
	}
	if err == nil {
		res.TLS, err = c.HandshakeData(ctx, data)
		if err != nil {
			data.Close()
		}
	}
	if err != nil {
		res.Err = err
		// still collect the server's verdict on the failed transfer
		if r, rerr := c.ReadReply(ctx); rerr == nil {
			res.Replies = append(res.Replies, r)
		}
		return res
	}
	defer data.Close()
	stop := context.AfterFunc(ctx, func() { data.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		data.SetDeadline(dl)
	}
	h := sha256.New()
	if upload != nil {
		n, err := io.Copy(io.MultiWriter(data, h), upload)
		res.Bytes = n
		c.closeUpload(data)
		res.DataEOF = time.Now()
		c.tr.Notef("data: sent %d bytes, closed", n)
		if err != nil {
			res.Err = &OpError{Op: "data write", Err: withCancel(ctx, err), Transcript: c.tr}
		}
		final, rerr := c.ReadReply(ctx)
		if rerr == nil {
			res.Replies = append(res.Replies, final)
		} else if res.Err == nil {
			res.Err = rerr
		}
	} else {
		// Read the completion reply concurrently so its arrival time
		// relative to data EOF is observed, not imposed (XFER-018).
		type rr struct {
			r   Reply
			err error
		}
		done := make(chan rr, 1)
		copied := make(chan struct{})
		go func() {
			r, err := c.ReadReply(ctx)
			done <- rr{r, err}
			// A server that ends the transfer with an error (or with a
			// completion while leaving the data connection open) must not
			// keep us reading until the deadline: after an error reply
			// stop at once, after a completion allow a short grace for
			// bytes still in flight.
			grace := DataGrace
			if err != nil || !r.Is(226, 250) {
				grace = 0
			}
			select {
			case <-copied:
			case <-time.After(grace):
				data.SetReadDeadline(time.Unix(1, 0))
			}
		}()
		n, err := copyHashed(data, sink, h)
		close(copied)
		if err != nil && IsTimeout(err) && ctx.Err() == nil {
			// our own early stop, not a failure of the data connection
			c.tr.Notef("data: stopped reading after the final reply")
			err = nil
		}
		res.Bytes = n
		res.DataEOF = time.Now()
		data.Close()
		c.tr.Notef("data: received %d bytes, EOF", n)
		if err != nil {
			res.Err = &OpError{Op: "data read", Err: withCancel(ctx, err), Transcript: c.tr}
		}
		got := <-done
		if got.err == nil {
			res.Replies = append(res.Replies, got.r)
		} else if res.Err == nil {
			res.Err = got.err
		}
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	if res.Err == nil && !res.Final().Is(226, 250) {
		res.Err = &ReplyError{Cmd: cmdline, Reply: res.Final()}
	}
	return res
}

func copyHashed(src io.Reader, sink io.Writer, h hash.Hash) (int64, error) {
	w := io.Writer(h)
	if sink != nil {
		w = io.MultiWriter(sink, h)
	}
	return io.CopyBuffer(w, src, make([]byte, 256<<10))
}

// SHA256Hex is the hex SHA-256 of b (for comparing with TransferResult).
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
