package source

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/syncworker/syncworker/internal/httpclient"
)

// Helpers every adapter needs at its edge, so that the kinds above are
// applied the same way by all of them.

// Invalidf returns an error matching ErrInvalid with a description.
func Invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// FromTransport gives an error of the shared transport its kind: a body
// too large, or not JSON after every retry, is ErrInvalid; a platform that
// could not be reached (a broken connection, an attempt that timed out) is
// ErrUnavailable; the caller's cancellation stays as it is. A deadline of
// the caller's own is told apart by its context.
func FromTransport(err error) error {
	var tooLarge *httpclient.BodyTooLargeError
	var malformed *httpclient.MalformedBodyError
	switch {
	case errors.As(err, &tooLarge) || errors.As(err, &malformed):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	case errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// Clip makes s, text from a platform, one printable line of at most n
// bytes, cut at a rune boundary.
func Clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Redacted is an error whose text held a secret, rewritten without it. It
// unwraps only to kind, the error of the original chain a caller branches
// on, so that errors.Is and errors.As keep working and no caller can reach
// the unredacted text.
func Redacted(msg string, kind error) error { return &redactedError{msg: msg, kind: kind} }

type redactedError struct {
	msg  string
	kind error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.kind }
