// Package ftp is a raw FTP protocol client for testing servers, not for
// using them. It says exactly what the caller asks, reads exactly what came
// back, grades every reply against RFC 959 §4.2, and keeps a transcript of
// the session so a failing check can show what happened.
//
// Nothing the server sends is trusted: lines and replies are size-capped and
// every read and write runs under a deadline taken from the caller's context
// (or the Conn's default timeout when the context has none).
package ftp
