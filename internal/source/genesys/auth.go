package genesys

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syncworker/syncworker/internal/httpclient"
	"github.com/syncworker/syncworker/internal/source"
)

// Token lifetime policy. A token is renewed once less than
// min(maxRenewMargin, lifetime/renewShare) of its lifetime is left, so that
// no request of a pass starts with a token about to expire.
const (
	maxRenewMargin = 5 * time.Minute
	renewShare     = 10
	// maxLifetime bounds an implausible expires_in.
	maxLifetime = 48 * time.Hour
)

// tokenSource holds the OAuth access token of the client credentials grant
// (POST {login_url}/oauth/token) and renews it before it expires. One
// goroutine fetches while the others wait for its token.
type tokenSource struct {
	c      *Client
	url    string
	basic  string
	mu     sync.Mutex
	tok    string
	expiry time.Time // when to renew, already less the margin
	// recent are the last access tokens, for redaction: a token is a
	// secret too while it lives. Guarded by recentMu, not mu, as errors
	// are redacted while mu is held.
	recentMu sync.Mutex
	recent   []string
}

// maxRecentTokens is how many past tokens errors are cleaned of.
const maxRecentTokens = 4

func newTokenSource(c *Client, tokenURL, id, secret string) *tokenSource {
	return &tokenSource{c: c, url: tokenURL,
		basic: "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}
}

// token returns the current access token, fetching a new one when there is
// none or it is due for renewal.
func (ts *tokenSource) token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.tok != "" && ts.c.now().Before(ts.expiry) {
		return ts.tok, nil
	}
	tok, lifetime, err := ts.fetch(ctx)
	if err != nil {
		ts.tok = ""
		return "", fmt.Errorf("get access token: %w", err)
	}
	ts.tok = tok
	ts.remember(tok)
	ts.expiry = ts.c.now().Add(lifetime - min(maxRenewMargin, lifetime/renewShare))
	return tok, nil
}

func (ts *tokenSource) remember(tok string) {
	ts.recentMu.Lock()
	defer ts.recentMu.Unlock()
	ts.recent = append(ts.recent, tok)
	if len(ts.recent) > maxRecentTokens {
		ts.recent = ts.recent[1:]
	}
}

// tokens returns the recent access tokens.
func (ts *tokenSource) tokens() []string {
	ts.recentMu.Lock()
	defer ts.recentMu.Unlock()
	return slices.Clone(ts.recent)
}

// invalidate drops tok after the API refused it, unless another goroutine
// has already replaced it: a burst of 401s costs one renewal, not many.
func (ts *tokenSource) invalidate(tok string) {
	ts.mu.Lock()
	if ts.tok == tok {
		ts.tok = ""
	}
	ts.mu.Unlock()
}

// tokenResponse is the body of a successful token request.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// fetch asks the login host for a token: client credentials in a Basic
// header, grant_type in the form. 400 and 401 mean the credentials were
// refused: source.ErrUnauthorized, which ends the pass.
func (ts *tokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	resp, err := ts.c.hc.Do(ctx, httpclient.Request{
		Method:      http.MethodPost,
		URL:         ts.url,
		Endpoint:    "token",
		Header:      http.Header{"Authorization": {ts.basic}, "Accept": {"application/json"}},
		Body:        []byte(url.Values{"grant_type": {"client_credentials"}}.Encode()),
		ContentType: "application/x-www-form-urlencoded",
		Retry:       true,
	})
	if err != nil {
		return "", 0, source.FromTransport(err)
	}
	switch {
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized:
		return "", 0, fmt.Errorf("%w: %w", source.ErrUnauthorized, ts.c.describe(resp))
	case resp.StatusCode/100 != 2:
		return "", 0, ts.c.statusError(resp, nil)
	}
	return decodeToken(resp.Body)
}

// decodeToken reads and checks a token response.
func decodeToken(body []byte) (string, time.Duration, error) {
	var t tokenResponse
	if err := unmarshalObject(body, &t); err != nil {
		return "", 0, err
	}
	switch {
	case t.AccessToken == "":
		return "", 0, source.Invalidf("token response without access_token")
	case strings.ContainsFunc(t.AccessToken, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "", 0, source.Invalidf("access_token contains white space or control characters")
	case t.TokenType != "" && !strings.EqualFold(t.TokenType, "bearer"):
		return "", 0, source.Invalidf("token_type %q is not bearer", source.Clip(t.TokenType, 32))
	case t.ExpiresIn <= 0:
		return "", 0, source.Invalidf("expires_in %d is not a positive number of seconds", t.ExpiresIn)
	}
	return t.AccessToken, min(time.Duration(t.ExpiresIn)*time.Second, maxLifetime), nil
}

// unmarshalObject decodes a JSON object into v; unknown members are
// ignored. A top-level null, which encoding/json would accept silently, is
// an error.
func unmarshalObject(body []byte, v any) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return source.Invalidf("body is not a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return source.Invalidf("malformed JSON: %s", source.Clip(err.Error(), maxMessageLen))
	}
	return nil
}
