package esm

import (
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/httpclient"
)

// newTestClient returns a client of the fake's credentials with a fast
// retry policy.
func newTestClient(t *testing.T, baseURL string, mods ...func(*Options)) *Client {
	t.Helper()
	o := Options{
		BaseURL: baseURL, Login: testLogin, Password: testPassword,
		HTTP: httpclient.Options{Timeout: 5 * time.Second, Retries: 2, MinWait: time.Millisecond,
			MaxWait: 5 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond},
	}
	for _, m := range mods {
		m(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// noSecrets fails when err's text shows the password or a token.
func noSecrets(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{testPassword, tokenMark, "eyJhbGciOi"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows a secret (%q)", err, s)
		}
	}
}
