package engine

import (
	"errors"
	"io"
	"net"

	"github.com/syncworker/syncworker/internal/esm"
	"github.com/syncworker/syncworker/internal/source"
)

// unreachableAfter is how many sessions in a row may fail transiently,
// with no success between them, before the pass decides an API is down.
// Random faults under retries essentially never reach it; an outage does
// within one round of workers.
const unreachableAfter = 10

// errClass says who an error is about.
type errClass int

const (
	// classSession errors are about the session or its card: it backs off.
	classSession errClass = iota
	// classTransient errors are about the API, not the session: 5xx or 429
	// after the retries, a broken connection, a timeout. The session is
	// tried again next pass without back-off.
	classTransient
	// classFatal errors stop the pass: nothing can be synced.
	classFatal
)

// classify says who err is about: the chat source's errors by the kinds of
// the source contract, ESM's by the ESM client's types, and a broken
// connection by the standard library's.
func classify(err error) errClass {
	var (
		fatalErr *FatalError
		esmAPI   *esm.APIError
		esmRL    *esm.RateLimitError
		netErr   net.Error
	)
	switch {
	case errors.As(err, &fatalErr), errors.Is(err, esm.ErrLoginRefused), errors.Is(err, source.ErrUnauthorized):
		return classFatal
	case errors.Is(err, source.ErrNotFound), errors.Is(err, source.ErrInvalid):
		return classSession
	case errors.Is(err, source.ErrUnavailable):
		return classTransient
	case errors.As(err, &esmAPI):
		return statusClass(esmAPI.Status)
	case errors.As(err, &esmRL), errors.As(err, &netErr),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return classTransient
	}
	return classSession
}

// noAnswer reports whether err means the API did not answer at all (a
// broken connection, a timeout) rather than answering with an error
// status: a transient error that is neither is an answer (5xx, 429).
func noAnswer(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// deferralReason says why an API cut a session short, for the log.
func deferralReason(err error) string {
	if noAnswer(err) {
		return "the API did not answer"
	}
	return "the API answered with an error (5xx or 429)"
}

func statusClass(status int) errClass {
	if status >= 500 || status == 408 {
		return classTransient
	}
	return classSession
}
