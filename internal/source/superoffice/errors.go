package superoffice

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

// maxMessageLen bounds the server's error message kept in an APIError.
const maxMessageLen = 200

const redacted = "[REDACTED]"

// APIError is a non-2xx answer of the WebAPI other than those with their
// own error kind.
type APIError struct {
	Status int
	// Type and Message are the body's ErrorType and ErrorMessage,
	// shortened; empty when the body had none.
	Type, Message string
}

// Is makes a 5xx or 408 match source.ErrUnavailable: SuperOffice, not the
// session, is the problem.
func (e *APIError) Is(target error) bool {
	return target == source.ErrUnavailable && (e.Status >= 500 || e.Status == http.StatusRequestTimeout)
}

func (e *APIError) Error() string { return httpclient.StatusMessage(e.Status, e.Type, e.Message) }

// RateLimitError is a 429 still answered after the transport's retries.
type RateLimitError struct {
	// RetryAfter is the server's Retry-After, uncapped; 0 when it sent none.
	RetryAfter time.Duration
}

// Is makes a 429 match source.ErrUnavailable.
func (e *RateLimitError) Is(target error) bool { return target == source.ErrUnavailable }

func (e *RateLimitError) Error() string {
	if e.RetryAfter > 0 {
		return httpclient.StatusMessage(http.StatusTooManyRequests, fmt.Sprintf("retry after %v", e.RetryAfter))
	}
	return httpclient.StatusMessage(http.StatusTooManyRequests)
}

// errUnauthorized is a 401 answered twice in a row: the token or ticket is
// wrong, expired or revoked, and the adapter cannot renew it.
var errUnauthorized = fmt.Errorf("%w: 401 twice; renew chat.token (and chat.app_token) in the tenant file", source.ErrUnauthorized)

// statusError maps a non-2xx response to the error callers branch on.
// notFound, when set, is the error a 404 means for the endpoint.
func (c *Client) statusError(resp *httpclient.Response, notFound error) error {
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return errUnauthorized
	case resp.StatusCode == http.StatusNotFound && notFound != nil:
		return httpclient.StatusError(resp.StatusCode, notFound)
	case resp.StatusCode == http.StatusTooManyRequests:
		after, _ := httpclient.RetryAfter(resp.Header, c.now())
		return &RateLimitError{RetryAfter: after}
	}
	typ, msg := c.serverMessage(resp.Body)
	return &APIError{Status: resp.StatusCode, Type: typ, Message: msg}
}

// serverMessage returns the ErrorType and ErrorMessage of an error body,
// made safe to log: no secret, no control characters, bounded length.
func (c *Client) serverMessage(body []byte) (string, string) {
	var e wireError
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	msg := e.ErrorMessage
	if msg == "" {
		msg = e.Message
	}
	return source.Clip(c.redact(e.ErrorType), 80), source.Clip(c.redact(msg), maxMessageLen)
}

// redact replaces the secrets in s.
func (c *Client) redact(s string) string {
	for _, secret := range c.secrets {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	return s
}

// wrap adds the phrase of one layer to err, as "superoffice <operation>: …"
// (the format every API's errors share), and makes sure no secret, which a
// hostile server could echo anywhere, shows in the result.
func (c *Client) wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("superoffice "+format+": %w", append(args, err)...)
	msg := err.Error()
	if clean := c.redact(msg); clean != msg {
		return source.Redacted(clean, kindOf(err))
	}
	return err
}

// kindOf finds in err's chain the error a caller would branch on. Those
// never contain a secret: sentinels are constant, and APIError messages are
// redacted when built.
func kindOf(err error) error {
	for _, target := range []error{source.ErrNotFound, source.ErrUnauthorized, source.ErrInvalid,
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
