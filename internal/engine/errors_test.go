package engine

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/syncworker/syncworker/internal/config"
	"github.com/syncworker/syncworker/internal/esm"
	"github.com/syncworker/syncworker/internal/source"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("fetch session ws-1: %w", err) }
	// apiErr is an adapter's typed error for a status, matching a kind as
	// the source contract asks.
	type apiErr struct{ error }
	tests := []struct {
		name string
		err  error
		want errClass
	}{
		{"session not found", wrap(source.ErrNotFound), classSession},
		{"invalid response", wrap(fmt.Errorf("%w: seq 0", source.ErrInvalid)), classSession},
		{"write refused", &esm.WriteError{Errors: []esm.FieldError{{Attribute: "members", Message: "no such card"}}}, classSession},
		{"chat 400", wrap(apiErr{errors.New("400 Bad Request")}), classSession},
		{"esm 403", &esm.APIError{Status: 403}, classSession},
		{"chat 503 after retries", wrap(fmt.Errorf("%w: 503", source.ErrUnavailable)), classTransient},
		{"esm 500", &esm.APIError{Status: 500}, classTransient},
		{"esm 429 after retries", &esm.RateLimitError{}, classTransient},
		{"chat 429 after retries", wrap(fmt.Errorf("%w: 429", source.ErrUnavailable)), classTransient},
		{"connection refused", wrap(&net.OpError{Op: "dial", Err: errors.New("connection refused")}), classTransient},
		{"body cut off", wrap(io.ErrUnexpectedEOF), classTransient},
		{"login refused", esm.ErrLoginRefused, classFatal},
		{"chat token refused", wrap(source.ErrUnauthorized), classFatal},
		{"state failing", fatal(errors.New("disk full")), classFatal},
		{"anything else", errors.New("odd"), classSession},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("%s: classify = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for failures, want := range map[int]string{1: "1m0s", 2: "2m0s", 3: "4m0s", 11: "17h4m0s", 12: "24h0m0s", 40: "24h0m0s"} {
		if got := backoff(failures).String(); got != want {
			t.Errorf("backoff(%d) = %s, want %s", failures, got, want)
		}
	}
}

func TestRefusedReference(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.ESM.Attributes.Customer = "" // disabled: must not match an error with no attribute
	e := &Engine{cfg: cfg}
	fe := func(attrs ...string) error {
		we := &esm.WriteError{}
		for _, a := range attrs {
			we.Errors = append(we.Errors, esm.FieldError{Attribute: a, Message: "refused"})
		}
		return fmt.Errorf("esm patch: %w", we)
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"members refused", fe("members"), true},
		{"unnamed error, then support person", fe("", "support_person"), true},
		{"unnamed error only", fe(""), false},
		{"other attribute", fe("chat_log"), false},
		{"not a write error", errors.New("boom"), false},
	}
	for _, tt := range tests {
		if got := e.refusedReference(tt.err); got != tt.want {
			t.Errorf("%s: refusedReference = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDeferralReason(t *testing.T) {
	t.Parallel()
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: &timeoutErr{}}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"chat 503", fmt.Errorf("chat fetch session ws-1: %w", fmt.Errorf("%w: 503", source.ErrUnavailable)), "answered with an error"},
		{"esm 502", fmt.Errorf("esm patch card 1: %w", &esm.APIError{Status: 502}), "answered with an error"},
		{"esm 429", &esm.RateLimitError{}, "answered with an error"},
		{"chat timeout", fmt.Errorf("chat fetch session ws-1: %w: %w", source.ErrUnavailable, timeout), "did not answer"},
		{"esm connection cut", fmt.Errorf("esm patch card 1: %w", io.ErrUnexpectedEOF), "did not answer"},
	} {
		if got := deferralReason(tc.err); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "i/o timeout" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }
