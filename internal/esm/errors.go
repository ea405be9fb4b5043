package esm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/httpclient"
)

// Sentinel errors callers branch on.
var (
	// ErrLoginRefused is ESM turning down the configured login and
	// password. Retrying cannot help; the caller should stop.
	ErrLoginRefused = errors.New("login refused: check the ESM login and password")
	// ErrCardNotFound is a 404 for one data card.
	ErrCardNotFound = errors.New("card not found")
	// ErrTemplateNotFound is a 404 for a template.
	ErrTemplateNotFound = errors.New("template not found")
	// ErrWriteForbidden is a 403 for a write: ESM does not let the
	// configured user change the card. It is about that card (its
	// template or folder); other cards may be writable.
	ErrWriteForbidden = errors.New("write forbidden: the ESM user lacks permission to change this card " +
		"(check its rights on the template and the card's folder)")
)

// APIError is a non-2xx answer from ESM, after any retries.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return httpclient.StatusMessage(e.Status, e.Message) }

// RateLimitError is a 429 that outlasted the retries. RetryAfter is the
// server's Retry-After, zero when it sent none.
type RateLimitError struct {
	RetryAfter time.Duration
	Message    string
}

func (e *RateLimitError) Error() string {
	after := ""
	if e.RetryAfter > 0 {
		after = fmt.Sprintf("retry after %s", e.RetryAfter)
	}
	return httpclient.StatusMessage(http.StatusTooManyRequests, after, e.Message)
}

// WriteError is a create or modify that ESM answered with 2xx but whose
// meta.errors says some attributes were not written.
type WriteError struct {
	Errors []FieldError
}

// FieldError is one entry of meta.errors.
type FieldError struct {
	Attribute string
	Message   string
}

func (e *WriteError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		if fe.Attribute == "" {
			parts[i] = fe.Message
			continue
		}
		parts[i] = fe.Attribute + ": " + fe.Message
	}
	return "write rejected: " + strings.Join(parts, "; ")
}

// wireError is Efecte's ApiException ({"code","message","error","url"}),
// read loosely: some gateways answer with other shapes or none.
type wireError struct {
	Message string `json:"message"`
	Error   string `json:"error"`
}

// maxMessage bounds how much of a server's message goes into an error.
const maxMessage = 300

// errorFromResponse maps a non-2xx status and body to a typed error.
func errorFromResponse(status int, header http.Header, body []byte, now time.Time) error {
	msg := messageOf(body)
	if status == http.StatusTooManyRequests {
		after, _ := httpclient.RetryAfter(header, now)
		return &RateLimitError{RetryAfter: after, Message: msg}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &APIError{Status: status, Message: msg}
}

func messageOf(body []byte) string {
	var w wireError
	if json.Unmarshal(body, &w) != nil {
		return ""
	}
	msg := w.Message
	if msg == "" {
		msg = w.Error
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > maxMessage {
		msg = msg[:maxMessage] + "…"
	}
	return msg
}

// wireFieldError is Efecte's RESTError; older versions and the errors of
// other endpoints use slightly different keys, so several are accepted.
type wireFieldError struct {
	AttributeCode string `json:"attributeCode"`
	Attribute     string `json:"attribute"`
	Code          string `json:"code"`
	Message       string `json:"message"`
	Error         string `json:"error"`
}

// fieldErrors reads a meta.errors array whose entries are RESTError
// objects or plain strings.
func fieldErrors(raws []json.RawMessage) []FieldError {
	var out []FieldError
	for _, raw := range raws {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out = append(out, FieldError{Message: s})
			continue
		}
		var w wireFieldError
		if json.Unmarshal(raw, &w) != nil {
			out = append(out, FieldError{Message: string(raw)})
			continue
		}
		fe := FieldError{Attribute: firstNonEmpty(w.AttributeCode, w.Attribute, w.Code),
			Message: firstNonEmpty(w.Message, w.Error, "rejected")}
		out = append(out, fe)
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
