package generic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source"
)

// Errors callers branch on: the kinds of the source contract.
var (
	// ErrSessionNotFound is a 404 for a session: the platform does not
	// know it.
	ErrSessionNotFound = source.ErrNotFound
	// ErrUnauthorized is a 401: the token is wrong or expired.
	ErrUnauthorized = source.ErrUnauthorized
	// ErrInvalidResponse is a 2xx answer that cannot be trusted: malformed
	// JSON, implausible values, or paging that would never end.
	ErrInvalidResponse = source.ErrInvalid
)

// maxMessageLen bounds the server's error message kept in an APIError.
const maxMessageLen = 200

const redacted = "[REDACTED]"

// APIError is a non-2xx answer other than those with their own error.
type APIError struct {
	Status int
	// Message is the server's {"error":"..."}, shortened; empty when the
	// body had none.
	Message string
}

// Is makes a 5xx or 408 match source.ErrUnavailable: the platform, not the
// session, is the problem.
func (e *APIError) Is(target error) bool {
	return target == source.ErrUnavailable && (e.Status >= 500 || e.Status == http.StatusRequestTimeout)
}

func (e *APIError) Error() string { return httpclient.StatusMessage(e.Status, e.Message) }

// RateLimitError is a 429 still answered after the transport's retries.
type RateLimitError struct {
	// RetryAfter is the server's Retry-After, uncapped; 0 when it sent none.
	RetryAfter time.Duration
}

// Is makes a 429 match source.ErrUnavailable.
func (e *RateLimitError) Is(target error) bool { return target == source.ErrUnavailable }

func (e *RateLimitError) Error() string { return rateLimitMessage(e.RetryAfter) }

// rateLimitMessage is the text of a 429 after the retries.
func rateLimitMessage(after time.Duration) string {
	if after > 0 {
		return httpclient.StatusMessage(http.StatusTooManyRequests, fmt.Sprintf("retry after %v", after))
	}
	return httpclient.StatusMessage(http.StatusTooManyRequests)
}

// statusError maps a non-2xx response to the error callers branch on.
func (c *Client) statusError(resp *httpclient.Response, notFound error) error {
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return httpclient.StatusError(resp.StatusCode, ErrUnauthorized)
	case resp.StatusCode == http.StatusNotFound && notFound != nil:
		return httpclient.StatusError(resp.StatusCode, notFound)
	case resp.StatusCode == http.StatusTooManyRequests:
		after, _ := httpclient.RetryAfter(resp.Header, c.now())
		return &RateLimitError{RetryAfter: after}
	}
	return &APIError{Status: resp.StatusCode, Message: c.serverMessage(resp.Body)}
}

// serverMessage returns the "error" member of an error body, made safe to
// log: no token, no control characters, bounded length.
func (c *Client) serverMessage(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	msg := strings.ReplaceAll(e.Error, c.token, redacted)
	return source.Clip(msg, maxMessageLen)
}

// kindOf finds in err's chain the error a caller would branch on. Those
// never contain the token: sentinels are constant, and APIError messages
// are redacted when built.
func kindOf(err error) error {
	for _, target := range []error{ErrSessionNotFound, ErrUnauthorized, ErrInvalidResponse,
		context.Canceled, context.DeadlineExceeded, source.ErrUnavailable} {
		if errors.Is(err, target) {
			return target
		}
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	var rateErr *RateLimitError
	if errors.As(err, &rateErr) {
		return rateErr
	}
	return nil
}
