package httpclient

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// BodyTooLargeError is a response body over the configured cap.
type BodyTooLargeError struct {
	Limit int64
}

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("response body larger than %d bytes", e.Limit)
}

// ReadLimited reads r to the end, failing with a *BodyTooLargeError as soon
// as more than limit bytes arrive, or at once when the announced length
// (-1 when unknown) is already over it.
func ReadLimited(r io.Reader, length, limit int64) ([]byte, error) {
	if length > limit {
		return nil, &BodyTooLargeError{Limit: limit}
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, &BodyTooLargeError{Limit: limit}
	}
	return b, nil
}

// RetryAfter parses a Retry-After header, in seconds or as an HTTP date
// relative to now. It reports false when there is none or it is unreadable.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(365*24*time.Hour/time.Second) {
			secs = int64(365 * 24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// StatusMessage formats an error answer the one way every API client of
// syncworker shows it: "<code> <reason>: <detail>: …", the server's details
// that are not empty and not the reason phrase again. Clients wrap it with
// "<api> <operation>: ".
func StatusMessage(code int, details ...string) string {
	reason := http.StatusText(code)
	s := strconv.Itoa(code)
	if reason != "" {
		s += " " + reason
	}
	for _, d := range details {
		if d != "" && d != reason {
			s += ": " + d
		}
	}
	return s
}

// StatusError is kind, an error callers branch on (a not-found, a refused
// login), with the status that meant it in front, so that it reads like
// every other error answer: "<code> <reason>: <kind>".
func StatusError(code int, kind error) error {
	return fmt.Errorf("%s: %w", StatusMessage(code), kind)
}
