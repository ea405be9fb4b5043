package esm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/syncworker/syncworker/internal/httpclient"
)

// session is the current login. A zero refreshAt means the token's expiry
// is unknown: it is used until ESM answers 401.
type session struct {
	token     string
	refreshAt time.Time
}

func (s session) validAt(now time.Time) bool {
	return s.token != "" && (s.refreshAt.IsZero() || now.Before(s.refreshAt))
}

// loginError is a failure to obtain a token: the request it was for was
// never sent.
type loginError struct{ err error }

func (e *loginError) Error() string { return "log in: " + e.err.Error() }
func (e *loginError) Unwrap() error { return e.err }

// token returns a token valid now, logging in when there is none or it is
// about to expire. Concurrent callers share one login; a caller whose ctx
// ends stops waiting, without cancelling the login for the others.
func (c *Client) token(ctx context.Context) (string, error) {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s.validAt(c.now()) {
		return s.token, nil
	}
	ch := c.logins.DoChan("login", func() (any, error) {
		return c.refresh(context.WithoutCancel(ctx), s.token)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		return res.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// forget drops tok after ESM refused it, unless another caller has already
// replaced it.
func (c *Client) forget(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess.token == tok {
		c.sess = session{}
	}
}

// refresh logs in unless another caller already replaced the stale token.
func (c *Client) refresh(ctx context.Context, stale string) (string, error) {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s.token != stale && s.validAt(c.now()) {
		return s.token, nil
	}
	s, err := c.logIn(ctx)
	if err != nil {
		return "", &loginError{err: err}
	}
	c.mu.Lock()
	c.sess = s
	c.mu.Unlock()
	return s.token, nil
}

// logIn calls POST /users/login with the form login=…&password=… and
// reads the token from the body ({"token":"Bearer <JWT>"}) or, failing
// that, the Authorization header.
func (c *Client) logIn(ctx context.Context) (session, error) {
	form := url.Values{"login": {c.login}, "password": {c.password}}
	resp, err := c.http.Do(ctx, httpclient.Request{
		Method:      http.MethodPost,
		URL:         c.base + "/users/login",
		Header:      http.Header{"Accept": {"application/json"}},
		Body:        []byte(form.Encode()),
		ContentType: "application/x-www-form-urlencoded",
		Retry:       true,
	})
	if err != nil {
		return session{}, &scrubbedError{msg: c.scrub(err.Error()), err: err}
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return session{}, httpclient.StatusError(resp.StatusCode, ErrLoginRefused)
	case resp.StatusCode/100 != 2:
		return session{}, c.scrubError(errorFromResponse(resp.StatusCode, resp.Header, resp.Body, c.now()))
	}
	tok := loginToken(resp)
	if tok == "" {
		return session{}, errors.New("login answer carries no token")
	}
	return c.newSession(tok), nil
}

func loginToken(resp *httpclient.Response) string {
	var body struct {
		Token string `json:"token"`
	}
	_ = json.Unmarshal(resp.Body, &body)
	if t := stripBearer(body.Token); t != "" {
		return t
	}
	return stripBearer(resp.Header.Get("Authorization"))
}

func stripBearer(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	return s
}

// newSession decides when to log in again: RefreshBefore ahead of exp, or
// halfway through a token that lives shorter than twice that. A token
// without a readable exp, or one already expired by our clock (skew), is
// used until ESM refuses it.
func (c *Client) newSession(tok string) session {
	now := c.now()
	exp, ok := jwtExpiry(tok)
	if !ok || !exp.After(now) {
		c.logger.Warn("ESM token has no usable expiry; logging in again on the next 401",
			"expiry_known", ok)
		return session{token: tok}
	}
	margin := min(c.refreshBefore, exp.Sub(now)/2)
	c.logger.Debug("logged in to ESM", "expires", exp)
	return session{token: tok, refreshAt: exp.Add(-margin)}
}

// jwtExpiry reads the exp claim of a JWT without checking its signature:
// the server checks it, the client only needs to know when to log in again.
func jwtExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == "" {
		return time.Time{}, false
	}
	secs, err := claims.Exp.Float64()
	if err != nil || secs <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(secs), 0), true
}

// String describes the client without its credentials.
func (c *Client) String() string { return fmt.Sprintf("esm.Client(%s)", c.base) }
