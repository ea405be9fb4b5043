package esm

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// newSandbox serves a sandbox ESM that takes the test credentials. It
// returns the sandbox and the API root a client is configured with.
func newSandbox(t *testing.T, opts sandbox.Options) (*sandbox.Server, string) {
	t.Helper()
	opts.Login, opts.Password = testLogin, testPassword
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, srv.URL + sandbox.ESMPrefix
}

// newTestClient returns a client of the test credentials with a fast
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
