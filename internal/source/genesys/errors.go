package genesys

import (
	"context"
	"encoding/base64"
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

// minRedacted is the shortest access token redacted from errors.
const minRedacted = 8

// APIError is a non-2xx answer of the Platform API or the login host
// other than those with an error of their own.
type APIError struct {
	Status int
	// Code is the vendor's error code ("not.found", "bad.request", …) or,
	// from the login host, the OAuth error ("invalid_client").
	Code string
	// Message is the server's message, shortened and made safe to log.
	Message string
}

// Is makes a 5xx or 408 match source.ErrUnavailable: the platform, not
// the conversation, is the problem.
func (e *APIError) Is(target error) bool {
	return target == source.ErrUnavailable && (e.Status >= 500 || e.Status == http.StatusRequestTimeout)
}

func (e *APIError) Error() string { return httpclient.StatusMessage(e.Status, e.Code, e.Message) }

// RateLimitError is a 429 still answered after the transport's retries,
// each of which waited the server's Retry-After (capped).
type RateLimitError struct {
	// RetryAfter is the server's last Retry-After, uncapped; 0 when none.
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

// statusError maps a non-2xx answer of the API to the error callers branch
// on: 401 (after the one renewal) is source.ErrUnauthorized.
func (c *Client) statusError(resp *httpclient.Response, notFound error) error {
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w: %s", source.ErrUnauthorized, c.describe(resp))
	case resp.StatusCode == http.StatusNotFound && notFound != nil:
		return httpclient.StatusError(resp.StatusCode, notFound)
	case resp.StatusCode == http.StatusTooManyRequests:
		after, _ := httpclient.RetryAfter(resp.Header, c.now())
		return &RateLimitError{RetryAfter: after}
	}
	return c.describe(resp)
}

// describe turns an error answer into an APIError. It reads both the
// Platform API's {"message","code","status"} and the login host's
// {"error","error_description"}.
func (c *Client) describe(resp *httpclient.Response) *APIError {
	var e struct {
		Message          string `json:"message"`
		Code             string `json:"code"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Description      string `json:"description"`
	}
	_ = json.Unmarshal(resp.Body, &e)
	code := e.Code
	if code == "" {
		code = e.Error
	}
	msg := e.Message
	if msg == "" {
		msg = e.ErrorDescription
	}
	if msg == "" {
		msg = e.Description
	}
	return &APIError{Status: resp.StatusCode, Code: c.safe(code, 64), Message: c.safe(msg, maxMessageLen)}
}

// safe makes a server's string one printable line without any form of
// the client secret.
func (c *Client) safe(s string, n int) string {
	return source.Clip(c.redact(s), n)
}

// redact removes every form of the client secret, and the recent access
// tokens, from s: a hostile or broken server could echo them anywhere.
func (c *Client) redact(s string) string {
	for _, secret := range c.secrets {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	if c.auth != nil {
		for _, tok := range c.auth.tokens() {
			if len(tok) < minRedacted {
				continue // too short to tell from ordinary text
			}
			s = strings.ReplaceAll(s, tok, redacted)
		}
	}
	return s
}

// secretForms are the strings that would give the client secret away: the
// secret itself and the Basic credentials it is sent in.
func secretForms(id, secret string) []string {
	basic := base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))
	return []string{basic, secret}
}

// wrap adds the phrase of one layer to err, as "genesys-cloud <operation>:
// …" (the format every API's errors share), and makes sure no form of the
// client secret shows in the result.
func (c *Client) wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("genesys-cloud "+format+": %w", append(args, err)...)
	msg := err.Error()
	if clean := c.redact(msg); clean != msg {
		return source.Redacted(clean, kindOf(err))
	}
	return err
}

// kindOf finds in err's chain the error a caller would branch on.
func kindOf(err error) error {
	for _, target := range []error{source.ErrNotFound, source.ErrUnauthorized, source.ErrInvalid,
		context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, target) {
			return target
		}
	}
	var rateErr *RateLimitError
	if errors.As(err, &rateErr) {
		return rateErr
	}
	if errors.Is(err, source.ErrUnavailable) {
		return source.ErrUnavailable
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	return nil
}
