package ftp

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Reply pairing (REPLY-006). RFC 959 §4.2 gives every command exactly one
// completion reply (2yz-5yz), optionally preceded by 1yz preliminaries. A
// server that answers a command twice shifts every later reply of the
// session onto the wrong command, so with pairing enabled the Conn counts
// the completion replies it is owed, and before each command it sends it
// reads (and discards) any reply that arrived when none was owed: one
// already buffered, or one arriving within a short grace after the last
// completion. Each such reply is recorded with the command it followed.

// Unsolicited is a completion reply that arrived when no command was
// waiting for one.
type Unsolicited struct {
	After string // the last command answered before it ("greeting" for none)
	Reply Reply
}

func (u Unsolicited) String() string { return fmt.Sprintf("%s → extra reply %s", u.After, u.Reply) }

// WithReplyPairing enables the detection of unsolicited replies. Before
// each command, replies already received are checked for (a poll of about
// a millisecond); after an error completion (4yz/5yz, where servers were
// seen answering twice) an extra reply is also waited for until grace has
// passed since that completion, so a command sent later pays nothing and
// the many commands sent right after a success pay only the poll. Off by
// default.
func WithReplyPairing(grace time.Duration) Option {
	return func(o *options) { o.pairing = true; o.pairGrace = grace }
}

const (
	maxUnsolicited = 64 // recorded per connection; more are only counted in the transcript
	maxOwedNames   = 64 // command names kept for owed replies
	maxNameLen     = 60
	maxDrain       = 8 // extra replies discarded before one command
	// pollInterval is the wait for bytes the system already holds (a
	// deadline in the past would not even try the read).
	pollInterval = time.Millisecond
)

// pairing is the state of one connection's reply accounting. It is guarded
// by Conn.mu: a transfer may read its completion reply in a goroutine while
// the spec sends ABOR.
type pairing struct {
	owed        []string // commands whose completion reply is still owed, oldest first
	owedExtra   int      // owed replies beyond maxOwedNames
	late        int      // owed replies whose read timed out (the caller gave up)
	lastAnswer  string
	lastDone    time.Time
	lastFailed  bool   // the last completion was 4yz/5yz (where extra replies were seen)
	rawLine     []byte // start of the line being written by WriteRaw
	rawCR       bool   // the last raw byte was CR
	unsolicited []Unsolicited
}

func (p *pairing) owe(name string) {
	if len(p.owed) < maxOwedNames {
		p.owed = append(p.owed, name)
		return
	}
	p.owedExtra++
}

func (p *pairing) owing() int { return len(p.owed) + p.owedExtra }

// answered pops the oldest owed command.
func (p *pairing) answered() string {
	if p.late > 0 {
		p.late--
	}
	if p.owedExtra > 0 && len(p.owed) == 0 {
		p.owedExtra--
		return "command"
	}
	name := p.owed[0]
	p.owed = p.owed[1:]
	if p.owedExtra > 0 {
		p.owedExtra--
		p.owed = append(p.owed, "command")
	}
	return name
}

// rawLines counts the command lines in bytes written raw: each LF, and each
// CR not followed by LF (a server may end a line there; counting too many
// only hides extras, counting too few would invent them).
func (p *pairing) rawLines(b []byte) {
	for _, c := range b {
		switch {
		case c == '\n' && p.rawCR:
			// CRLF already counted at the CR
		case c == '\n' || c == '\r':
			name := string(p.rawLine)
			if name == "" {
				name = "(empty line)"
			}
			p.owe(fmt.Sprintf("%q", name))
			p.rawLine = p.rawLine[:0]
		default:
			if len(p.rawLine) < maxNameLen {
				p.rawLine = append(p.rawLine, c)
			}
		}
		p.rawCR = c == '\r'
	}
}

func commandName(line string) string {
	b := maskPASS([]byte(line))
	if len(b) > maxNameLen {
		return fmt.Sprintf("%q… (%d bytes)", b[:maxNameLen], len(b))
	}
	return string(b)
}

// Unsolicited returns the extra replies seen so far (pairing enabled).
func (c *Conn) Unsolicited() []Unsolicited {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pair == nil {
		return nil
	}
	return append([]Unsolicited(nil), c.pair.unsolicited...)
}

// noteSent records that line (sent by SendLine) is owed a reply.
func (c *Conn) noteSent(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pair.owe(commandName(line))
}

// noteRaw records that every command line ended in b (sent by WriteRaw) is
// owed a reply.
func (c *Conn) noteRaw(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pair.rawLines(b)
}

// noteRead accounts for one reply read by ReadReply (err: the read failed).
func (c *Conn) noteRead(r Reply, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pair
	var pe *ProtocolError
	if err != nil && !(errors.As(err, &pe) && pe.Kind == "malformed") {
		if IsTimeout(err) {
			p.late = p.owing()
		}
		return
	}
	if r.Preliminary() {
		return
	}
	if p.owing() > 0 {
		p.lastAnswer = p.answered()
		p.lastDone, p.lastFailed = time.Now(), r.Class() >= 4
		return
	}
	c.unsolicitedLocked(r)
}

func (c *Conn) unsolicitedLocked(r Reply) {
	if r.Code == 421 {
		// RFC 959 §4.2 allows 421 in answer to any command when the
		// service is closing: not an extra reply.
		return
	}
	after := c.pair.lastAnswer
	if after == "" {
		after = "greeting"
	}
	u := Unsolicited{After: after, Reply: r}
	c.tr.Notef("unsolicited reply after %s (no command was waiting for it): %s", after, r)
	if len(c.pair.unsolicited) < maxUnsolicited {
		c.pair.unsolicited = append(c.pair.unsolicited, u)
	}
}

// resync runs before a command is sent: while no live command is owed a
// reply, it reads the replies already received or arriving within the
// grace, and discards them (late replies of commands whose read timed out
// pair with those commands; others are recorded as unsolicited). A 421 is
// left for the caller (the session is closing).
func (c *Conn) resync(ctx context.Context) {
	if !c.rmu.TryLock() {
		return // a reader is active (e.g. a transfer's completion)
	}
	defer c.rmu.Unlock()
	for i := 0; i < maxDrain; i++ {
		c.mu.Lock()
		live := c.pair.owing() - c.pair.late
		until := c.pair.lastDone
		if c.pair.lastFailed {
			until = until.Add(c.opts.pairGrace)
		}
		c.mu.Unlock()
		if live > 0 || !c.replyWaiting(until) {
			return
		}
		if c.closing(ctx) {
			return
		}
		r, err := c.readReply(ctx)
		if err != nil {
			return
		}
		c.mu.Lock()
		switch {
		case r.Preliminary():
		case c.pair.owing() > 0:
			name := c.pair.answered()
			c.pair.lastAnswer, c.pair.lastDone = name, time.Now()
			c.tr.Notef("late reply to %s (its read timed out), discarded so the next command pairs with its own reply", name)
		default:
			c.unsolicitedLocked(r)
			c.pair.lastDone = time.Now()
			c.tr.Notef("discarded so the next command pairs with its own reply")
		}
		c.mu.Unlock()
	}
}

// closing reports a 421 coming next.
func (c *Conn) closing(ctx context.Context) bool {
	defer c.arm(ctx)()
	b, _ := c.rr.br.Peek(3)
	return string(b) == "421"
}

// ReplyWaiting reports whether a reply has begun to arrive (buffered, or
// received within d), without reading it: for a client that must know
// whether the server has already spoken before it acts.
func (c *Conn) ReplyWaiting(d time.Duration) bool { return c.replyWaiting(time.Now().Add(d)) }

// replyWaiting reports whether reply bytes are buffered, already received
// by the system (a poll of pollInterval), or arrive before until.
func (c *Conn) replyWaiting(until time.Time) bool {
	if c.rr.br.Buffered() > 0 {
		return true
	}
	if min := time.Now().Add(pollInterval); until.Before(min) {
		until = min
	}
	c.nc.SetReadDeadline(until)
	_, err := c.rr.br.Peek(1)
	c.nc.SetReadDeadline(time.Time{})
	return err == nil
}
