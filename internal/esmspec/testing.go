package esmspec

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
)

var missingOnce sync.Once

// InCI reports whether the tests run in CI, which sets CI=true.
func InCI() bool { return os.Getenv("CI") == "true" }

// Wrap returns h with its ESM exchanges checked against Efecte's document
// for the test t (see Handler): each violation fails t.
//
// Without the document, t fails in CI; elsewhere the exchanges go
// unchecked, and the first test to find that out says so on stderr and in
// its log, with how to get the document.
func Wrap(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	spec, err := Load()
	if err != nil {
		if InCI() || !errors.Is(err, ErrMissing) {
			t.Fatalf("ESM conformance: %v", err)
		}
		missingOnce.Do(func() { fmt.Fprintf(os.Stderr, "ESM conformance NOT checked: %v\n", err) })
		t.Logf("ESM conformance NOT checked: %v", err)
		return h
	}
	return spec.Handler(h, func(v string) { t.Errorf("ESM conformance: %s", v) })
}
