package esm

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syncworker/syncworker/internal/esmspec"
	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/sandbox"
)

// TestMain reports how many ESM exchanges the tests checked against
// Efecte's document (see esmspec), visible with go test -v.
func TestMain(m *testing.M) {
	code := m.Run()
	fmt.Println(esmspec.Summary())
	os.Exit(code)
}

// Distinctive credentials, searched for in every error a test sees.
const (
	testLogin    = "syncworker-rest"
	testPassword = "pw-Xq7!zK9-SECRET"
	// tokenMark is part of every token the tests' own servers issue.
	tokenMark = "SIGNATURE-TOKENSECRET"
)

// newSandbox serves a sandbox ESM that takes the test credentials. It
// returns the sandbox and the API root a client is configured with.
func newSandbox(t *testing.T, opts sandbox.Options) (*sandbox.Server, string) {
	t.Helper()
	opts.Login, opts.Password = testLogin, testPassword
	sb := sandbox.New(opts)
	srv := httptest.NewServer(esmspec.Wrap(t, sb))
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

func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	writeRaw(w, status, string(b))
}

// apiException is Efecte's error body.
func apiException(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"code": status, "message": msg,
		"error": http.StatusText(status), "timestamp": "2024-05-01T09:58:00Z"})
}

// makeJWT returns an unsigned-looking JWT whose payload carries exp.
func makeJWT(exp time.Time, n int32) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload := enc.EncodeToString(fmt.Appendf(nil, `{"sub":"%s","iat":%d,"exp":%d}`, testLogin, exp.Add(-time.Hour).Unix(), exp.Unix()))
	return head + "." + payload + "." + tokenMark + strconv.Itoa(int(n))
}
